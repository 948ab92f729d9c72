export { aesMmoHash } from './security/mmo.js';
export * from './zcl/key-establishment-types.js';
