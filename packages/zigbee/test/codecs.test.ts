import { describe, expect, it } from 'vitest';
import {
  decodeApsFrame,
  decodeInterPanFrame,
  decodeMacFrame,
  decodeNwkFrame,
  decodeZdo,
  encodeApsFrame,
  encodeInterPanFrame,
  encodeMacFrame,
  encodeNwkFrame,
  encodeZdo,
  fromHex,
  isInterPanFrame,
  toHex,
  unsecureApsFrame,
  unsecureInterPanFrame,
  unsecureNwkFrame,
  ZDO_PROFILE_ID,
  ZigbeeDecodeError,
} from '../src/index.js';
import { allFrames, LINK_KEY, NWK_KEY } from './fixtures.js';

function expectZbError(fn: () => unknown, layer: string, code: string, field?: string): void {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ZigbeeDecodeError);
    const z = e as ZigbeeDecodeError;
    expect([z.layer, z.code]).toEqual([layer, code]);
    if (field) expect(z.field).toBe(field);
    return;
  }
  throw new Error('expected a ZigbeeDecodeError');
}

/** Decode every layer of a PSDU (decrypting with the fixture keys), re-encoding each exactly. */
function peel(psdu: Uint8Array): string[] {
  const layers: string[] = [];
  const mac = decodeMacFrame(psdu);
  expect(toHex(encodeMacFrame(mac))).toBe(toHex(psdu));
  layers.push(`mac:${mac.frameType}`);
  if (mac.frameType !== 'data') return layers;
  if (isInterPanFrame(mac.payload)) {
    const ip = decodeInterPanFrame(mac.payload);
    expect(toHex(encodeInterPanFrame(ip))).toBe(toHex(mac.payload));
    layers.push(`interpan:${ip.deliveryMode}`);
    if (ip.security) {
      const { frame } = unsecureInterPanFrame(mac.payload, { key: LINK_KEY });
      layers.push(`interpan-plain:${frame.payload.length}`);
    }
    return layers;
  }
  const nwk = decodeNwkFrame(mac.payload);
  expect(toHex(encodeNwkFrame(nwk))).toBe(toHex(mac.payload));
  const plainNwk = nwk.security ? unsecureNwkFrame(mac.payload, { key: NWK_KEY }).frame : nwk;
  layers.push(`nwk:${plainNwk.frameType}${nwk.security ? '+sec' : ''}`);
  if (plainNwk.frameType !== 'data') return layers;
  const aps = decodeApsFrame(plainNwk.payload);
  expect(toHex(encodeApsFrame(aps))).toBe(toHex(plainNwk.payload));
  const plainAps = aps.security ? unsecureApsFrame(plainNwk.payload, { key: LINK_KEY }).frame : aps;
  layers.push(`aps:${plainAps.frameType}${aps.security ? '+sec' : ''}`);
  if (plainAps.frameType === 'data' && plainAps.profileId === ZDO_PROFILE_ID) {
    const zdo = decodeZdo(plainAps.clusterId, plainAps.payload);
    const again = encodeZdo(zdo);
    expect(again.clusterId).toBe(plainAps.clusterId);
    expect(toHex(again.payload)).toBe(toHex(plainAps.payload));
    layers.push(`zdo:${zdo.command}`);
  }
  if (plainAps.frameType === 'command') layers.push(`aps-cmd:${plainAps.command.id}`);
  return layers;
}

describe('every fixture frame decodes layer by layer and re-encodes to the same bytes', () => {
  for (const f of allFrames()) {
    it(f.name, () => {
      const layers = peel(f.psdu);
      expect(layers.length).toBeGreaterThan(0);
    });
  }
});

describe('MAC specifics (802.15.4-2006 §7.2)', () => {
  it('encodes the beacon request of protocol notes §3 byte for byte', () => {
    const psdu = encodeMacFrame(
      {
        frameType: 'command',
        sequenceNumber: 0x5a,
        framePending: false,
        ackRequest: false,
        panIdCompression: false,
        frameVersion: 0,
        destinationPan: 0xffff,
        destination: 0xffff,
        command: { id: 'beaconRequest' },
      },
      { fcs: false },
    );
    expect(toHex(psdu)).toBe('03085affffffff07');
  });

  it('rejects a bad FCS, reserved addressing mode, MAC security and PAN ID compression without addresses', () => {
    const ok = encodeMacFrame({ frameType: 'ack', sequenceNumber: 1, framePending: false, frameVersion: 0 });
    const bad = ok.slice();
    bad[4]! ^= 1;
    expectZbError(() => decodeMacFrame(bad), 'MAC', 'BAD_FCS', 'fcs');
    expectZbError(
      () => decodeMacFrame(fromHex('0104010000'), { fcs: false }),
      'MAC',
      'INVALID_FIELD',
      'addressingMode',
    );
    expectZbError(
      () => decodeMacFrame(fromHex('09880100000000'), { fcs: false }),
      'MAC',
      'UNSUPPORTED',
      'securityEnabled',
    );
    expectZbError(
      () => decodeMacFrame(fromHex('410801621a0000'), { fcs: false }),
      'MAC',
      'INVALID_FIELD',
      'panIdCompression',
    );
  });

  it('rejects truncated and overlong command frames', () => {
    // Association response missing its status byte.
    expectZbError(
      () =>
        decodeMacFrame(fromHex('63cc01621a0d0c0b0a004b120004030201004b1200023412'), {
          fcs: false,
        }),
      'MAC',
      'TRUNCATED',
      'associationStatus',
    );
    // Data request with a trailing byte.
    expectZbError(
      () => decodeMacFrame(fromHex('63c801621a00000d0c0b0a004b120004ff'), { fcs: false }),
      'MAC',
      'OVERLONG',
      'command',
    );
    expectZbError(() => decodeMacFrame(new Uint8Array(128)), 'MAC', 'OVERLONG', 'psdu');
  });
});

describe('NWK / APS / Inter-PAN specifics', () => {
  it('sends Inter-PAN frames with the protocol-notes §4 frame controls', () => {
    const f = allFrames();
    const uni = f.find((x) => x.name === 'inter-pan unicast')!.psdu;
    const bc = f.find((x) => x.name === 'inter-pan broadcast')!.psdu;
    expect(toHex(uni.subarray(0, 2))).toBe('21cc');
    expect(toHex(bc.subarray(0, 2))).toBe('01c8');
  });

  it('routes the Inter-PAN stub away from decodeNwkFrame and a NWK frame away from decodeInterPanFrame', () => {
    expectZbError(() => decodeNwkFrame(fromHex('0b000301000700090109')), 'NWK', 'UNSUPPORTED', 'frameType');
    expectZbError(
      () => decodeInterPanFrame(fromHex('08020000341201020300')),
      'INTERPAN',
      'INVALID_FIELD',
      'nwkFrameControl',
    );
  });

  it('rejects reserved APS delivery mode, group-delivered commands and fixed commands with trailing bytes', () => {
    expectZbError(() => decodeApsFrame(fromHex('0401020701090101')), 'APS', 'INVALID_FIELD', 'deliveryMode');
    expectZbError(() => decodeApsFrame(fromHex('0d0109')), 'APS', 'INVALID_FIELD', 'deliveryMode');
    expectZbError(() => decodeApsFrame(fromHex('01010901ff')), 'APS', 'OVERLONG', 'command');
    expectZbError(() => decodeApsFrame(fromHex('0101050100')), 'APS', 'TRUNCATED', 'key');
  });
});
