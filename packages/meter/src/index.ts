/**
 * @gbhan/meter: the GB meters of the emulator - ESME (electricity: Metering and Prepayment
 * servers, GB-HGRP tunnel server) and GSME (gas, sleepy, reporting to the GPF).
 */
export * from './app-util.js';
export * from './cbke-service.js';
export * from './cluster-server.js';
export * from './devices.js';
export * from './esme.js';
export * from './gsme.js';
export * from './joiner-runtime.js';
export * from './metering.js';
export * from './prepayment.js';
export * from './process.js';
export * from './process-args.js';
export * from './tunnel-envelope.js';
export * from './tunnel-server.js';
