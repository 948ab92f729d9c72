/**
 * @gbhan/ppmid: the Prepayment Meter Interface Device of the emulator - reads the ESME and the
 * GPF mirror, shows credit and readings (traced as `ppmid-display`), performs consumer top-ups.
 */

// The generic application runtime (CBKE service, cluster server, tunnel envelope and
// server, joiner runtime, device arguments) lives in @gbhan/stack; re-exported so this
// package's public names stay as they were.
export * from '@gbhan/stack/app';
export * from './kind.js';
export * from './ppmid.js';
export * from './ppmid-app.js';
export * from './trace-events.js';
