/** Errors of the cbke package carry a stable `code` so callers can branch without parsing text. */
export type CbkeErrorCode =
  | 'CBKE_FIELD_ELEMENT'
  | 'CBKE_POINT_INVALID'
  | 'CBKE_POINT_INFINITY'
  | 'CBKE_SCALAR_INVALID'
  | 'CBKE_CERT_LENGTH'
  | 'CBKE_CERT_FIELD'
  | 'CBKE_CERT_INVALID'
  | 'CBKE_BAD_LENGTH'
  | 'CBKE_UNSUPPORTED_SUITE'
  | 'CBKE_STATE'
  /** A caller passed what no transport could have received: a sender or peer that is not an
   * 8-byte EUI64, a suite bitmap or option out of range. Nothing changes state. */
  | 'CBKE_BAD_ARGUMENT';

export class CbkeError extends Error {
  constructor(
    readonly code: CbkeErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'CbkeError';
  }
}
