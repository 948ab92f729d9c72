/**
 * @gbhan/head-end: a Supplier head-end for SECMP0038 runs - DCC requests over a link, and the
 * PPMID route when the WAN has failed.
 */
export * from './head-end.js';
export * from './kind.js';
export * from './policy.js';
export * from './trace-events.js';
