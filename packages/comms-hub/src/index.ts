/**
 * @gbhan/comms-hub: the GB Communications Hub of the emulator - CHF (coordinator and trust
 * centre policy, Device Log, CBKE responder, GB-HGRP tunnel client, WAN side) and GPF (gas
 * mirror, sleepy queue).
 */
export * from './app-util.js';
export * from './cbke-service.js';
export * from './cluster-server.js';
export * from './comms-hub.js';
export * from './comms-hub-app.js';
export * from './device-log.js';
export * from './gpf.js';
export * from './process.js';
export * from './process-args.js';
export * from './tunnel-envelope.js';
export * from './tunnel-manager.js';
export * from './wan.js';
