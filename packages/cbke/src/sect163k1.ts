/**
 * sect163k1 (SEC 2 v2 §3.2.1; NIST K-163): the curve of ZigBee SE crypto suite 1.
 * f(z) = z^163 + z^7 + z^6 + z^3 + 1, a = 1, b = 1, cofactor 2.
 */
import { GF2m } from './abstract/gf2m.js';
import { KoblitzCurve } from './abstract/koblitz.js';

export const sect163k1 = new KoblitzCurve({
  name: 'sect163k1',
  field: new GF2m(163, [7, 6, 3]),
  a: 1,
  n: 0x04000000000000000000020108a2e0cc0d99f8a5efn,
  h: 2n,
  gx: 0x02fe13c0537bbc11acaa07d793de4e6d5e5c94eee8n,
  gy: 0x0289070fb05d38ff58321f2e800536d538ccdaa3d9n,
});
