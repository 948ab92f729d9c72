export * from './bus-command.js';
export * from './device-threads.js';
export * from './errors.js';
export * from './events-command.js';
export * from './expect.js';
export * from './radio-device.js';
export * from './registry.js';
export * from './risks.js';
export * from './run-command.js';
export * from './runner.js';
export * from './schema.js';
export * from './schema-homes.js';
export * from './schema-risks.js';
export * from './trace-events.js';
export * from './trace-events-doc.js';

import './builtin.js';
