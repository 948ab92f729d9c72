/**
 * Wireshark as the outside judge of the Smart Energy ZCL bytes: every SE command this package
 * encodes (plus Default Response and Read Attributes on Key Establishment) goes into one
 * capture as Inter-PAN frames (SE 1.4 Annex B.4: no NWK security needed, the framing GB uses
 * for HHT CBKE), and tshark must dissect each without malformed or expert errors and show the
 * cluster, command and Key Establishment certificate fields we put in.
 */
import { malformedCount, tempFile, tshark, tsharkFields } from '@gbhan/testing/tshark';
import { describe, expect, it } from 'vitest';
import { buildPcap, LINKTYPE_IEEE802_15_4_WITHFCS } from '../../radio-bus/src/capture.js';
import { encodeInterPanFrame, interPanMacFrame, secureInterPanFrame } from '../src/interpan.js';
import { encodeMacFrame } from '../src/mac.js';
import {
  decodeZclFrame,
  encodeDefaultResponse,
  encodeReadAttributes,
  encodeReadAttributesResponse,
  encodeZclCommand,
} from '../src/zcl/zcl.js';
import { SAMPLES, suiteVectors } from './zcl-fixtures.js';

const SE_PROFILE = 0x0109;
const HHT = '0a0b0c0d0e0f1012';
const CH = '0a0b0c0d0e0f1011';

interface Entry {
  cluster: number;
  commandId: number;
  global: boolean;
  direction: 'clientToServer' | 'serverToClient';
  zcl: Uint8Array;
}

const entries: Entry[] = SAMPLES.map((s, i) => ({
  cluster: s.cluster,
  commandId: s.commandId,
  global: false,
  direction: s.direction,
  zcl: encodeZclCommand({
    cluster: s.cluster,
    command: s.command,
    direction: s.direction,
    payload: s.payload,
    tsn: i,
  }),
}));
entries.push(
  {
    cluster: 0x0800,
    commandId: 0x00,
    global: true,
    direction: 'clientToServer',
    zcl: encodeReadAttributes({ attributeIds: [0x0000], tsn: 100 }),
  },
  {
    cluster: 0x0800,
    commandId: 0x01,
    global: true,
    direction: 'serverToClient',
    zcl: encodeReadAttributesResponse({
      tsn: 100,
      records: [{ attrId: 0, status: 0, dataType: 0x19, attrData: 2 }],
    }),
  },
  {
    cluster: 0x0800,
    commandId: 0x0b,
    global: true,
    direction: 'serverToClient',
    zcl: encodeDefaultResponse({ direction: 'serverToClient', tsn: 101, commandId: 0x03, statusCode: 0x00 }),
  },
);

function psdu(e: Entry, seq: number): Uint8Array {
  const toServer = e.direction === 'clientToServer';
  const payload = encodeInterPanFrame({
    deliveryMode: 'unicast',
    clusterId: e.cluster,
    profileId: SE_PROFILE,
    security: false,
    payload: e.zcl,
  });
  return encodeMacFrame(
    interPanMacFrame({
      sequenceNumber: seq & 0xff,
      destinationPan: toServer ? 0x1a2b : 0xffff,
      destination: toServer ? CH : HHT,
      sourcePan: toServer ? 0xffff : 0x1a2b,
      source: toServer ? HHT : CH,
      payload,
    }),
  );
}

const pcap = tempFile(
  'zcl-se.pcap',
  buildPcap(
    LINKTYPE_IEEE802_15_4_WITHFCS,
    entries.map((e, i) => ({ timeUs: i * 10_000, psdu: psdu(e, i), page: 0, channel: 11 })),
  ),
);

/** Wireshark's per-cluster protocol abbreviations (packet-zbee-zcl-se.c). */
const SE_DISSECTOR: Record<number, string> = {
  1792: 'price',
  1795: 'msg',
  1796: 'tun',
  1797: 'pp',
  1803: 'sub_ghz',
  2048: 'ke',
};

const num = (s: string | undefined) => (s === undefined || s === '' ? Number.NaN : Number(s));

describe('tshark dissects every Smart Energy command', () => {
  it('the frames are ones our own decoder accepts', () => {
    for (const e of entries) expect(() => decodeZclFrame(e.zcl, { cluster: e.cluster })).not.toThrow();
  });

  it('with no malformed frames and no expert warnings or errors', () => {
    expect(malformedCount(pcap)).toBe(0);
    const experts = tshark(pcap, [
      '-Y',
      '_ws.expert.severity >= 6291456',
      '-T',
      'fields',
      '-e',
      'frame.number',
      '-e',
      '_ws.expert.message',
    ]);
    expect(experts.trim()).toBe('');
  });

  it('showing cluster, frame type, direction and command id of each', () => {
    const fields = [
      'wpan.fcs_ok',
      'zbee_aps.cluster',
      'zbee_aps.profile',
      'zbee_zcl.type',
      'zbee_zcl.dir',
      'zbee_zcl.cmd.tsn',
      'zbee_zcl.cmd.id',
      ...Object.values(SE_DISSECTOR).flatMap((abbr) => [
        `zbee_zcl_se.${abbr}.cmd.srv_rx.id`,
        `zbee_zcl_se.${abbr}.cmd.srv_tx.id`,
      ]),
      '_ws.col.Info',
    ];
    const rows = tsharkFields(pcap, fields);
    expect(rows.length).toBe(entries.length);
    rows.forEach((r, i) => {
      const e = entries[i]!;
      const get = (f: string) => r[fields.indexOf(f)];
      const at = `frame ${i + 1}`;
      expect(get('wpan.fcs_ok'), at).toBe('1');
      expect(num(get('zbee_aps.cluster')), at).toBe(e.cluster);
      expect(num(get('zbee_aps.profile')), at).toBe(SE_PROFILE);
      expect(num(get('zbee_zcl.type')), at).toBe(e.global ? 0 : 1);
      expect(num(get('zbee_zcl.dir')), at).toBe(e.direction === 'clientToServer' ? 0 : 1);
      const abbr = SE_DISSECTOR[e.cluster]!;
      const commandField = e.global
        ? 'zbee_zcl.cmd.id'
        : `zbee_zcl_se.${abbr}.cmd.${e.direction === 'clientToServer' ? 'srv_rx' : 'srv_tx'}.id`;
      expect(num(get(commandField)), `${at} command`).toBe(e.commandId);
      expect(get('_ws.col.Info'), at).not.toMatch(/unknown/i);
    });
  });

  it('splitting the suite-2 certificates into their fields', () => {
    const v = suiteVectors(2);
    const rows = tsharkFields(
      pcap,
      [
        'zbee_zcl_se.ke.cert.type',
        'zbee_zcl_se.ke.cert.curve',
        'zbee_zcl_se.ke.cert.hash',
        'zbee_zcl_se.ke.cert.issuer',
        'zbee_zcl_se.ke.cert.subject',
        'zbee_zcl_se.ke.cert.reconst',
        'zbee_zcl_se.ke.init.ephemeral.time',
        'zbee_zcl_se.ke.init.confirm.time',
      ],
      ['-Y', 'zbee_zcl_se.ke.cert.subject'],
    );
    expect(rows.length).toBe(2);
    const strip = (s: string | undefined) => (s ?? '').replaceAll(':', '').toLowerCase();
    rows.forEach((r, i) => {
      const cert = i === 0 ? v.certU : v.certV;
      const h = Buffer.from(cert).toString('hex');
      expect(num(r[0])).toBe(0);
      expect(num(r[1])).toBe(0x0d);
      expect(num(r[2])).toBe(0x08);
      expect(strip(r[3])).toBe(h.slice(22, 38));
      expect(strip(r[4])).toBe(h.slice(56, 72));
      expect(strip(r[4])).toBe(i === 0 ? HHT : CH);
      expect(strip(r[5])).toBe(h.slice(74));
      expect(num(r[6])).toBe(11);
      expect(num(r[7])).toBe(16);
    });
  });

  it('showing ephemeral data, MACs and Terminate fields', () => {
    const v = suiteVectors(2);
    const rows = tsharkFields(pcap, [
      'zbee_zcl_se.ke.qeu',
      'zbee_zcl_se.ke.qev',
      'zbee_zcl_se.ke.macu',
      'zbee_zcl_se.ke.macv',
      'zbee_zcl_se.ke.terminate.status',
    ]);
    const col = (c: number) =>
      rows.map((r) => (r[c] ?? '').replaceAll(':', '').toLowerCase()).filter((x) => x !== '');
    expect(col(0)).toEqual([Buffer.from(v.qeu).toString('hex')]);
    expect(col(1)).toEqual([Buffer.from(v.qev).toString('hex')]);
    expect(col(2)).toEqual([v.macU.toLowerCase()]);
    expect(col(3)).toEqual([v.macV.toLowerCase()]);
    expect(col(4).map(Number)).toEqual([3, 5]);
  });

  it('showing Price, Messaging, Prepayment, Tunneling and Sub-GHz field values', () => {
    const fields = [
      'zbee_zcl_se.price.currency',
      'zbee_zcl_se.price.price',
      'zbee_zcl_se.price.number_of_events',
      'zbee_zcl_se.msg.message',
      'zbee_zcl_se.msg.message.id',
      'zbee_zcl_se.pp.consumer_top_up.originating_device',
      'zbee_zcl_se.pp.consumer_top_up_response.top_up_value',
      'zbee_zcl_se.pp.publish_debt_log.outstanding_debt',
      'zbee_zcl_se.tun.protocol_id',
      'zbee_zcl_se.tun.manufacturer_code',
      'zbee_zcl_se.tun.max_in_transfer_size',
      'zbee_zcl_se.sub_ghz.zcl_messages_suspension_period',
    ];
    const rows = tsharkFields(pcap, fields);
    const one = (field: string) =>
      rows
        .map((r) => r[fields.indexOf(field)] ?? '')
        .filter((x) => x !== '')
        .flatMap((x) => x.split(','));
    expect(one('zbee_zcl_se.price.currency').map(Number)).toEqual([826]);
    expect(one('zbee_zcl_se.price.price').map(Number)).toEqual([2850]);
    expect(one('zbee_zcl_se.price.number_of_events').map(Number)).toEqual([5]);
    // tshark 4.0 shows the Message Confirmation response under the same field as the message
    expect(one('zbee_zcl_se.msg.message')).toEqual(['Low credit', 'Yes']);
    expect(one('zbee_zcl_se.msg.message.id').map(Number)).toEqual([42, 42, 42, 43]);
    expect(one('zbee_zcl_se.pp.consumer_top_up.originating_device').map(Number)).toEqual([2]);
    expect(one('zbee_zcl_se.pp.consumer_top_up_response.top_up_value').map(Number)).toEqual([2000]);
    expect(one('zbee_zcl_se.pp.publish_debt_log.outstanding_debt').map(Number)).toEqual([900, 250]);
    expect(one('zbee_zcl_se.tun.protocol_id').map(Number)).toEqual([6, 6, 200]);
    expect(one('zbee_zcl_se.tun.manufacturer_code').map(Number)).toEqual([0xffff, 0xffff, 0x1002]);
    expect(one('zbee_zcl_se.tun.max_in_transfer_size').map(Number)).toEqual([1500, 1500]);
    expect(one('zbee_zcl_se.sub_ghz.zcl_messages_suspension_period').map(Number)).toEqual([30]);
  });

  it('decrypting an APS-secured Inter-PAN Publish Price with the CBKE link key it is given', () => {
    // SE 1.4 "enhanced" Inter-PAN: frames other than Key Establishment are APS-secured with
    // the link key CBKE produced (here the Annex C suite-2 keyData).
    const keyHex = suiteVectors(2).keyData.toLowerCase();
    const price = SAMPLES.find((x) => x.command === 'publishPrice')!;
    const zcl = encodeZclCommand({
      cluster: 0x0700,
      command: 'publishPrice',
      direction: 'serverToClient',
      payload: price.payload,
      tsn: 77,
    });
    const macPayload = secureInterPanFrame(
      { deliveryMode: 'unicast', clusterId: 0x0700, profileId: SE_PROFILE, security: false, payload: zcl },
      { key: Uint8Array.from(Buffer.from(keyHex, 'hex')), frameCounter: 1, sourceEui64: CH },
    );
    const frame = encodeMacFrame(
      interPanMacFrame({
        sequenceNumber: 1,
        destinationPan: 0xffff,
        destination: HHT,
        sourcePan: 0x1a2b,
        source: CH,
        payload: macPayload,
      }),
    );
    const secured = tempFile(
      'zcl-se-secured.pcap',
      buildPcap(LINKTYPE_IEEE802_15_4_WITHFCS, [{ timeUs: 0, psdu: frame, page: 0, channel: 11 }]),
    );
    const keyOpt = ['-o', `uat:zigbee_pc_keys:"${keyHex}","Normal","cbke"`];
    expect(malformedCount(secured, keyOpt)).toBe(0);
    const [row] = tsharkFields(
      secured,
      ['zbee_aps.cluster', 'zbee_zcl.cmd.tsn', 'zbee_zcl_se.price.currency', 'zbee_zcl_se.price.price'],
      keyOpt,
    );
    expect(row?.map(num)).toEqual([0x0700, 77, 826, 2850]);
  });
});
