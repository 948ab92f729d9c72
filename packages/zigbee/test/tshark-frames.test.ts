/**
 * Wireshark as outside judge of every frame kind this package encodes: MAC, NWK commands,
 * APS data/ack/commands, Inter-PAN (unicast, broadcast, group, secured) and ZDO, secured and
 * not. tshark gets the network key and the install-code link key on the command line and
 * must dissect every frame without malformed/expert items, show the expected field values,
 * and decrypt each secured frame (fields inside the ciphertext appear).
 */
import { tempFile, tsharkFields } from '@gbhan/testing/tshark';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildPcap, LINKTYPE_IEEE802_15_4_WITHFCS } from '../../radio-bus/src/capture.js';
import { toHex } from '../src/index.js';
import { allFrames, type FixtureFrame, LINK_KEY, NWK_KEY } from './fixtures.js';

const keyArgs = [
  '-o',
  `uat:zigbee_pc_keys:"${toHex(NWK_KEY)}","Normal","nwk"`,
  '-o',
  `uat:zigbee_pc_keys:"${toHex(LINK_KEY)}","Normal","link"`,
];

describe('tshark dissects every MAC/NWK/APS/Inter-PAN/ZDO frame kind', () => {
  let frames: FixtureFrame[];
  let pcap: string;
  let rows: Map<string, string>[];
  let expectFields: string[];

  beforeAll(() => {
    frames = allFrames();
    pcap = tempFile(
      'zigbee-frames.pcap',
      buildPcap(
        LINKTYPE_IEEE802_15_4_WITHFCS,
        frames.map((f, i) => ({ timeUs: i * 10_000, psdu: f.psdu, page: 0, channel: 11 })),
      ),
    );
    expectFields = [...new Set(frames.flatMap((f) => Object.keys(f.expect)))];
    const fields = [
      'frame.number',
      'wpan.fcs_ok',
      '_ws.malformed',
      '_ws.expert.message',
      'zbee.sec.key_id',
      'zbee.sec.decryption_key',
      'zbee.sec.key.origin',
      ...expectFields,
    ];
    rows = tsharkFields(pcap, fields, keyArgs).map(
      (cols) => new Map(fields.map((f, i) => [f, cols[i] ?? ''])),
    );
  });

  it('has one dissected row per frame, every FCS correct', () => {
    expect(rows).toHaveLength(frames.length);
    for (const r of rows) expect(r.get('wpan.fcs_ok')).toBe('1');
  });

  it('reports no malformed frames and no expert items with the keys given', () => {
    const bad = rows
      .map((r, i) => ({
        name: frames[i]!.name,
        malformed: r.get('_ws.malformed'),
        expert: r.get('_ws.expert.message'),
      }))
      .filter((r) => r.malformed || r.expert);
    expect(bad).toEqual([]);
  });

  it('shows the expected field values', () => {
    const mismatches: string[] = [];
    rows.forEach((r, i) => {
      const f = frames[i]!;
      for (const [field, want] of Object.entries(f.expect)) {
        const got = r.get(field) ?? '';
        if (!got.split(',').includes(want)) mismatches.push(`${f.name}: ${field} = '${got}', want '${want}'`);
      }
    });
    expect(mismatches).toEqual([]);
  });

  it('decrypts every secured frame (NWK and APS, key-transport and key-load keys included)', () => {
    const secured = frames.map((f, i) => ({ f, r: rows[i]! })).filter(({ f }) => f.secured);
    expect(secured.length).toBeGreaterThan(40);
    for (const { f, r } of secured) {
      expect(r.get('zbee.sec.key_id'), f.name).not.toBe('');
      // A key from the command line shows its label; one tshark learned from our Transport Key
      // frame shows that frame's number instead.
      expect(`${r.get('zbee.sec.decryption_key')}${r.get('zbee.sec.key.origin')}`, f.name).not.toBe('');
    }
    // Key ids seen: network (1), data (0), key-transport (2), key-load (3).
    const ids = new Set(rows.flatMap((r) => (r.get('zbee.sec.key_id') ?? '').split(',').filter(Boolean)));
    expect([...ids].sort()).toEqual(['0x00', '0x01', '0x02', '0x03']);
  });

  it('cannot read the secured frames without the keys (the decryption above is real)', () => {
    const plain = tsharkFields(pcap, ['frame.number', '_ws.expert.message']);
    const flagged = plain.filter((c) => (c[1] ?? '').includes('Encrypted Payload')).length;
    expect(flagged).toBe(frames.filter((f) => f.secured).length);
  });
});
