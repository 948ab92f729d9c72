/**
 * Wireshark (tshark 4.0) as the outside judge: our commands and responses, carried as the
 * ZCL Tunneling (0x0704) Transfer Data a CHF and an ESME exchange, dissect as gbcs_tunnel ->
 * gbcs_message with the fields we put in and 0 malformed frames. Full 802.15.4 / ZigBee
 * frames built with @gbhan/zigbee's encoders, without NWK/APS security (so tshark needs no
 * keys); messages longer than one frame are APS-fragmented as a real HAN would, and a large
 * message split with our GBT code is reassembled by Wireshark's own GBT reassembly.
 */

import { malformedCount, tempFile, tsharkFields } from '@gbhan/testing/tshark';
import { encodeApsFrame, encodeMacFrame, encodeNwkFrame } from '@gbhan/zigbee';
import { describe, expect, it } from 'vitest';
import {
  buildCommand,
  buildResponse,
  concat,
  cs01aTopUp,
  deviceGbcsKeys,
  ecs70SetClock,
  encodeTunnelCommand,
  fromHex,
  remoteParties,
  splitIntoBlocks,
  type TunnelCommand,
} from '../src/index.js';

const p = remoteParties('tshark-test');
const esme = deviceGbcsKeys('tshark-test', '00db1234567890a0');
const CHF_SHORT = 0x0000;
const ESME_SHORT = 0x1234;
const PAN = 0x1a62;
const TUNNEL_ID = 0x0007;
let seq = 0;
let apsCounter = 0;

/** ZCL Transfer Data: client->server is command 0x02, server->client 0x01 (SE 1.4 D.6). */
function transferData(t: TunnelCommand, toServer: boolean): Uint8Array {
  const frameControl = toServer ? 0x01 : 0x19; // cluster-specific; server->client, no default rsp
  return concat(
    Uint8Array.of(frameControl, seq & 0xff, toServer ? 0x02 : 0x01, TUNNEL_ID & 0xff, TUNNEL_ID >> 8),
    encodeTunnelCommand(t),
  );
}

/** PSDUs (with FCS) for one ZCL frame; APS-fragmented into blocks of at most 80 bytes. */
function psdus(zcl: Uint8Array, toServer: boolean): Uint8Array[] {
  const [src, dst] = toServer ? [CHF_SHORT, ESME_SHORT] : [ESME_SHORT, CHF_SHORT];
  const counter = apsCounter++ & 0xff;
  const chunks: Uint8Array[] = [];
  for (let i = 0; i < zcl.length; i += 80) chunks.push(zcl.subarray(i, i + 80));
  return chunks.map((chunk, i) => {
    const aps = encodeApsFrame({
      frameType: 'data',
      security: false,
      deliveryMode: 'unicast',
      ackRequest: false,
      destinationEndpoint: 1,
      clusterId: 0x0704,
      profileId: 0x0109,
      sourceEndpoint: 1,
      counter,
      ...(chunks.length > 1
        ? {
            extendedHeader: {
              fragmentation: i === 0 ? 1 : 2,
              blockNumber: i === 0 ? chunks.length : i,
            } as const,
          }
        : {}),
      payload: chunk,
    });
    const nwk = encodeNwkFrame({
      frameType: 'data',
      security: false,
      protocolVersion: 2,
      discoverRoute: 1,
      endDeviceInitiator: false,
      destination: dst,
      source: src,
      radius: 30,
      sequenceNumber: seq & 0xff,
      payload: aps,
    });
    return encodeMacFrame(
      {
        frameType: 'data',
        sequenceNumber: seq++ & 0xff,
        framePending: false,
        ackRequest: true,
        panIdCompression: true,
        frameVersion: 0,
        destinationPan: PAN,
        destination: dst,
        source: src,
        payload: nwk,
      },
      { fcs: true },
    );
  });
}

function pcap(frames: Uint8Array[]): string {
  const header = new Uint8Array(24);
  const h = new DataView(header.buffer);
  h.setUint32(0, 0xa1b2c3d4, true);
  h.setUint16(4, 2, true);
  h.setUint16(6, 4, true);
  h.setUint32(16, 65535, true);
  h.setUint32(20, 195, true); // LINKTYPE_IEEE802_15_4_WITHFCS
  const records = frames.map((f, i) => {
    const r = new Uint8Array(16 + f.length);
    const v = new DataView(r.buffer);
    v.setUint32(0, 1_700_000_000 + i, true);
    v.setUint32(8, f.length, true);
    v.setUint32(12, f.length, true);
    r.set(f, 16);
    return r;
  });
  return tempFile('gbcs.pcap', concat(header, ...records));
}

const base = {
  originator: p.supplier.systemTitle,
  recipient: esme.systemTitle,
  acbKaPrivate: p.acb.ka.privateKey,
  deviceKaPublic: esme.ka.publicKey,
};
const cs01a = buildCommand({
  ...base,
  useCase: 'CS01a',
  counter: 0x0000000300000000n,
  payload: cs01aTopUp('73946144332040217315', 3n << 32n),
});
const ecs70 = buildCommand({
  ...base,
  useCase: 'ECS70',
  counter: 1000n,
  signer: p.supplier.ds.privateKey,
  payload: ecs70SetClock({
    counter: 1000n,
    validityStart: fromHex('07de0c1fff173b0a008000ff'),
    validityEnd: fromHex('07df0101ff00000a008000ff'),
  }),
});
const response = buildResponse({
  useCase: 'CS01a',
  originator: esme.systemTitle,
  recipient: p.supplier.systemTitle,
  counter: 0x0000000300000000n,
  payload: fromHex('da200000000000010001030000'),
  deviceKaPrivate: esme.ka.privateKey,
  recipientKaPublic: p.supplier.ka.publicKey,
});

describe('tshark reads our GBCS messages in ZCL Tunneling Transfer Data', () => {
  const frames = [
    ...psdus(transferData({ command: 'PUT', message: cs01a }, true), true),
    ...psdus(transferData({ command: 'PUT', message: ecs70 }, true), true),
    ...psdus(transferData({ command: 'GET-RESPONSE', remaining: 0, message: response }, false), false),
    ...psdus(transferData({ command: 'GET' }, true), true),
  ];
  const file = pcap(frames);

  it('dissects with 0 malformed frames', () => {
    expect(frames.length).toBeGreaterThan(4); // some messages needed APS fragmentation
    expect(malformedCount(file)).toBe(0);
  });

  it('shows the tunnel command and the grouping header fields we encoded', () => {
    const rows = tsharkFields(
      file,
      [
        'gbcs_tunnel.command',
        'gbcs_tunnel.remaining',
        'gbcs_message.grouping_header.cra_flag',
        'gbcs_message.grouping_header.originator_counter',
        'gbcs_message.grouping_header.business_originator_id',
        'gbcs_message.grouping_header.business_target_id',
        'gbcs_message.grouping_header.message_code',
        'gbcs_message.mac',
        'gbcs_message.krp',
      ],
      ['-Y', 'gbcs_tunnel'],
    );
    expect(rows.map((r) => r.slice(0, 7))).toEqual([
      [
        '0x03',
        '',
        '0x01',
        String(0x0000000300000000n),
        '90:b3:d5:1f:30:01:00:00',
        '00:db:12:34:56:78:90:a0',
        '0x0007',
      ],
      ['0x03', '', '0x01', '1000', '90:b3:d5:1f:30:01:00:00', '00:db:12:34:56:78:90:a0', '0x0062'],
      [
        '0x02',
        '0',
        '0x02',
        String(0x0000000300000000n),
        '00:db:12:34:56:78:90:a0',
        '90:b3:d5:1f:30:01:00:00',
        '0x0007',
      ],
      ['0x01', '', '', '', '', '', ''],
    ]);
    expect(rows[0]![7]).toBe(Buffer.from(cs01a.subarray(-12)).toString('hex'));
    expect(rows[1]![8]).toBe(Buffer.from(ecs70.subarray(-12 - 64, -12)).toString('hex')); // the signature
  });

  it('reassembles a message we split into GBT blocks', () => {
    const blocks = splitIntoBlocks(ecs70, {
      cra: 'command',
      originatorCounter: 1000n,
      originator: p.supplier.systemTitle,
      recipient: esme.systemTitle,
      messageCode: 0x0062,
      maxBlockSize: 70, // + 6 bytes of ZCL and tunnel header: one APS frame each
    });
    expect(blocks.length).toBeGreaterThan(2);
    const gbtFile = pcap(
      blocks.flatMap((b) => psdus(transferData({ command: 'PUT', message: b }, true), true)),
    );
    expect(malformedCount(gbtFile)).toBe(0);
    const rows = tsharkFields(gbtFile, [
      'gbcs_message.gbt_header.block_number',
      'gbcs_message.gbt_header.block_control.last_block',
      'gbcs_message.routing_header.message_code',
      'gbcs_message.grouping_header.message_code',
      'gbcs_message.grouping_header.originator_counter',
    ]);
    expect(rows.map((r) => r[0])).toEqual(blocks.map((_, i) => String(i + 1)));
    expect(rows.every((r) => r[2] === '0x0062')).toBe(true);
    // Only the last block's frame carries the reassembled message's grouping header.
    expect(rows.at(-1)!.slice(3)).toEqual(['0x0062', '1000']);
    expect(rows.slice(0, -1).every((r) => r[3] === '')).toBe(true);
  });
});
