/**
 * @gbhan/comms-hub: the GB Communications Hub of the emulator - CHF (coordinator and trust
 * centre policy, Device Log, CBKE responder, GB-HGRP tunnel client, WAN side) and GPF (gas
 * mirror, sleepy queue).
 */

export * from './comms-hub.js';
export * from './comms-hub-app.js';
export * from './dcc-link.js';
export * from './device-log.js';
export * from './gpf.js';
export * from './interpan-window.js';
export * from './kind.js';
export * from './trace-events.js';
export * from './tunnel-manager.js';
export * from './wan.js';
export * from './wan-endpoint.js';
