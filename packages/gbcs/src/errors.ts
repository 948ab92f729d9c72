/**
 * One error type for every codec and key check in this package. `layer` and `field` say where
 * the bytes went wrong; `code` is stable so callers (and trace drops) can match on it.
 *
 * Codes:
 * - TRUNCATED: the input ended inside `field`.
 * - TRAILING_BYTES: bytes left after a complete structure (or a length that disagrees with it).
 * - INVALID_FIELD: `field` holds a value the layout does not allow (wrong tag, bad length form).
 * - UNSUPPORTED: a legal value this emulator does not implement (e.g. a DLMS data type).
 * - OUT_OF_RANGE: an argument to an encoder does not fit its field.
 * - BAD_KEY: a key is not a valid P-256 private scalar or public point.
 */
export type GbcsLayer =
  | 'LENGTH'
  | 'GENERAL_CIPHERING'
  | 'GENERAL_SIGNING'
  | 'TUNNEL'
  | 'GBT'
  | 'GBZ'
  | 'DLMS'
  | 'ASN1'
  | 'CRYPTO'
  | 'COMMAND';

export type GbcsErrorCode =
  | 'TRUNCATED'
  | 'TRAILING_BYTES'
  | 'INVALID_FIELD'
  | 'UNSUPPORTED'
  | 'OUT_OF_RANGE'
  | 'BAD_KEY';

export class GbcsError extends Error {
  constructor(
    readonly layer: GbcsLayer,
    readonly code: GbcsErrorCode,
    readonly field: string,
    detail: string,
  ) {
    super(`${layer} ${field}: ${detail}`);
    this.name = 'GbcsError';
  }
}
