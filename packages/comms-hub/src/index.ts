/**
 * @gbhan/comms-hub: the GB Communications Hub of the emulator - CHF (coordinator and trust
 * centre policy, Device Log, CBKE responder, GB-HGRP tunnel client, WAN side) and GPF (gas
 * mirror, sleepy queue).
 */

// The generic application runtime (CBKE service, cluster server, tunnel envelope and
// server, joiner runtime, device arguments) lives in @gbhan/stack; re-exported so this
// package's public names stay as they were.
export * from '@gbhan/stack/app';
export * from './comms-hub.js';
export * from './comms-hub-app.js';
export * from './device-log.js';
export * from './gpf.js';
export * from './interpan-window.js';
export * from './kind.js';
export * from './trace-events.js';
export * from './tunnel-manager.js';
export * from './wan.js';
export * from './wan-endpoint.js';
