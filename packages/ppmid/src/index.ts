/**
 * @gbhan/ppmid: the Prepayment Meter Interface Device of the emulator - reads the ESME and the
 * GPF mirror, shows credit and readings (traced as `ppmid-display`), performs consumer top-ups.
 */

export * from './alt-channel-port.js';
export * from './compromise.js';
export * from './kind.js';
export * from './ppmid.js';
export * from './ppmid-app.js';
export * from './trace-events.js';
