/**
 * @gbhan/ppmid: the Prepayment Meter Interface Device of the emulator - reads the ESME and the
 * GPF mirror, shows credit and readings (traced as `ppmid-display`), performs consumer top-ups.
 */
export * from './app-util.js';
export * from './cbke-service.js';
export * from './cluster-server.js';
export * from './joiner-runtime.js';
export * from './ppmid.js';
export * from './ppmid-app.js';
export * from './process.js';
export * from './process-args.js';
export * from './tunnel-envelope.js';
export * from './tunnel-server.js';
