/**
 * @gbhan/testkit: integration-test your own device against an emulated GB HAN from vitest or
 * jest. See README.md.
 */
export { buildCommand, type DeviceRef, resolveMatch } from './commands.js';
export { TestkitError, type TestkitErrorCode } from './errors.js';
export {
  type Duration,
  type EventMatch,
  Han,
  type HanOptions,
  type OutsideProcess,
  startHan,
  type WaitOptions,
} from './han.js';
