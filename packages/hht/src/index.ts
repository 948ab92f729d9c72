/**
 * @gbhan/hht: the installer's Hand Held Terminal - scans for Communications Hubs, pairs over
 * Inter-PAN (CBKE + install-code hand-over, `InterPanPairing` of @gbhan/stack), joins the
 * SMHAN and reads meters.
 */
export * from './hht.js';
export * from './kind.js';
export * from './trace-events.js';
