export * from './host.js';
export * from './nvm.js';
