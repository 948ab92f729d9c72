/**
 * @gbhan/report: report.html for a run (built from the trace as it streams) and the live
 * view served on 127.0.0.1 for a running or finished run.
 */
export * from './collect.js';
export * from './exchanges.js';
export { esc, formatTime } from './html.js';
export * from './live-control.js';
export * from './live-protocol.js';
export * from './live-server.js';
export * from './map.js';
export * from './report.js';
