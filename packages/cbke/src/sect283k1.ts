/**
 * sect283k1 (SEC 2 v2 §3.4.1; NIST K-283): the curve of ZigBee SE crypto suite 2, used by GB.
 * f(z) = z^283 + z^12 + z^7 + z^5 + 1, a = 0, b = 1, cofactor 4.
 */
import { GF2m } from './abstract/gf2m.js';
import { KoblitzCurve } from './abstract/koblitz.js';

export const sect283k1 = new KoblitzCurve({
  name: 'sect283k1',
  field: new GF2m(283, [12, 7, 5]),
  a: 0,
  n: 0x01ffffffffffffffffffffffffffffffffffe9ae2ed07577265dff7f94451e061e163c61n,
  h: 4n,
  gx: 0x0503213f78ca44883f1a3b8162f188e553cd265f23c1567a16876913b0c2ac2458492836n,
  gy: 0x01ccda380f1c9e318d90f95d07e5426fe87e45c0e8184698e45962364e34116177dd2259n,
});
