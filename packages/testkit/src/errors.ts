/**
 * The testkit's typed errors: a test that waits for something that never comes fails with a
 * code and the virtual (or, for attaching, wall) time it waited, never hangs.
 */

export type TestkitErrorCode =
  /** `waitFor` / `resetHan`: no matching trace event within the virtual-time limit. */
  | 'TESTKIT_TIMEOUT'
  /** `waitForAttach`: the device did not register on the bus within the wall-time limit. */
  | 'TESTKIT_ATTACH_TIMEOUT'
  /** A device id or EUI64 the HAN does not have. */
  | 'TESTKIT_UNKNOWN_DEVICE'
  /** An action the device type does not take, or arguments its schema refuses. */
  | 'TESTKIT_BAD_ACTION'
  /** `assertNever`: a matching event happened. */
  | 'TESTKIT_UNEXPECTED_EVENT'
  /** Something the testkit does not do (a scenario timeline with crash/restart ...). */
  | 'TESTKIT_UNSUPPORTED'
  /** An outside process the testkit started exited while the HAN was running. */
  | 'TESTKIT_PROCESS_EXITED';

export class TestkitError extends Error {
  constructor(
    readonly code: TestkitErrorCode,
    message: string,
  ) {
    super(`${code}: ${message}`);
    this.name = 'TestkitError';
  }
}
