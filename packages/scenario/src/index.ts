export * from './bus-command.js';
export * from './demo.js';
