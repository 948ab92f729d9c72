/**
 * One error type for every decoder and security check in this package. `layer` and `field`
 * say where the bytes went wrong; `code` is stable so callers (and trace drops) can match it.
 */
export type ZigbeeLayer =
  | 'PHY'
  | 'MAC'
  | 'NWK'
  | 'APS'
  | 'INTERPAN'
  | 'ZDO'
  | 'ZCL'
  | 'SECURITY'
  | 'INSTALL_CODE';

export type ZigbeeErrorCode =
  | 'TRUNCATED'
  | 'OVERLONG'
  | 'INVALID_FIELD'
  | 'UNSUPPORTED'
  | 'BAD_FCS'
  | 'BAD_MIC'
  | 'BAD_KEY'
  | 'BAD_CRC';

export class ZigbeeDecodeError extends Error {
  constructor(
    readonly layer: ZigbeeLayer,
    readonly code: ZigbeeErrorCode,
    readonly field: string,
    detail: string,
  ) {
    super(`${layer} ${field}: ${detail}`);
    this.name = 'ZigbeeDecodeError';
  }
}
