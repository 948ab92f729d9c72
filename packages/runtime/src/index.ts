/**
 * @gbhan/runtime: the generic application runtime on the stack's `ApplicationHost`, shared by
 * the GB device packages, which never import each other: CBKE service and the run's
 * certificates, cluster server helpers, the GB-HGRP tunnel envelope and tunnel server, the
 * joiner runtime, and device-process argument parsing.
 */
export * from './alert-confirmation.js';
export * from './cbke-service.js';
export * from './cluster-server.js';
export * from './device-alert.js';
export * from './device-args.js';
export * from './interpan-pairing.js';
export * from './joiner-runtime.js';
export * from './json-endpoint.js';
export * from './run-credentials.js';
export * from './trace-events.js';
export * from './tunnel-alert-sender.js';
export * from './tunnel-envelope.js';
export * from './tunnel-server.js';
export * from './zcl-helpers.js';
