/**
 * @gbhan/meter: the GB meters of the emulator - ESME (electricity: Metering and Prepayment
 * servers, GB-HGRP tunnel server) and GSME (gas, sleepy, reporting to the GPF).
 */

export * from './devices.js';
export * from './esme.js';
export * from './esme-gbcs.js';
export * from './gbcs-endpoint.js';
export * from './gsme.js';
export * from './gsme-gbcs.js';
export * from './kind.js';
export * from './manufacturer.js';
export * from './metering.js';
export * from './optical-endpoint.js';
export * from './optical-port.js';
export * from './prepayment.js';
export * from './trace-events.js';
export * from './triage.js';
