export * from './aps.js';
export {
  type Eui64,
  eui64FromLittleEndian,
  eui64ToLittleEndian,
  fromHex,
  isEui64,
  toHex,
} from './bytes.js';
export * from './crc.js';
export * from './errors.js';
export * from './interpan.js';
export * from './mac.js';
export * from './nwk.js';
export * from './phy.js';
export * from './security/aux-header.js';
export * from './security/ccm.js';
export * from './security/install-code.js';
export * from './security/keys.js';
export { aesMmoHash } from './security/mmo.js';
export * from './zcl/key-establishment.js';
export * from './zcl/key-establishment-types.js';
export * from './zcl/prepayment.js';
export * from './zcl/smart-energy-clusters.js';
export * from './zcl/tunneling.js';
export * from './zcl/zcl.js';
export * from './zdo.js';
