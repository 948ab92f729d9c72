import { describe, expect, it } from 'vitest';
import { ZigbeeDecodeError } from '../src/errors.js';
import {
  decodeDebtCreditStatus,
  decodeDebtLog,
  decodeTopUpLog,
  encodeDebtLog,
  encodeTopUpLog,
} from '../src/zcl/prepayment.js';
import { SMART_ENERGY_CLUSTERS } from '../src/zcl/smart-energy-clusters.js';
import { encodeGbHgrpRequestTunnel, packTunnelProtocol, unpackTunnelProtocol } from '../src/zcl/tunneling.js';
import {
  decodeZclFrame,
  encodeDefaultResponse,
  encodeReadAttributes,
  encodeReadAttributesResponse,
  encodeZclCommand,
} from '../src/zcl/zcl.js';
import { SAMPLES } from './zcl-fixtures.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const bytes = (s: string) => Uint8Array.from(Buffer.from(s.replaceAll(' ', ''), 'hex'));

function decodeError(f: () => unknown): ZigbeeDecodeError {
  try {
    f();
  } catch (err) {
    expect(err).toBeInstanceOf(ZigbeeDecodeError);
    return err as ZigbeeDecodeError;
  }
  throw new Error('expected a ZigbeeDecodeError');
}

describe('Smart Energy cluster definitions', () => {
  it('define every command the GB HAN uses, in herdsman format', () => {
    const ids = (name: string, side: 'commands' | 'commandsResponse') =>
      Object.values(SMART_ENERGY_CLUSTERS[name]![side])
        .map((c) => c.ID)
        .sort((a, b) => a - b);
    expect(ids('keyEstablishment', 'commands')).toEqual([0, 1, 2, 3]);
    expect(ids('keyEstablishment', 'commandsResponse')).toEqual([0, 1, 2, 3]);
    expect(ids('sePrepayment', 'commands')).toEqual([0x00, 0x04, 0x07, 0x08, 0x0a]);
    expect(ids('sePrepayment', 'commandsResponse')).toEqual([0x01, 0x03, 0x05, 0x06]);
    expect(ids('seTunneling', 'commands')).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(ids('seTunneling', 'commandsResponse')).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(ids('seSubGhz', 'commands')).toEqual([0]);
    expect(ids('seSubGhz', 'commandsResponse')).toEqual([0]);
  });
});

describe('every SE command round-trips', () => {
  for (const s of SAMPLES) {
    it(`${s.clusterName}.${s.command} (${s.direction})`, () => {
      const frame = encodeZclCommand({
        cluster: s.cluster,
        command: s.command,
        direction: s.direction,
        payload: s.payload,
        tsn: 0x42,
      });
      const d = decodeZclFrame(frame, { cluster: s.cluster });
      expect(d.clusterName).toBe(s.clusterName);
      expect(d.commandName).toBe(s.command);
      expect(d.header).toEqual({
        frameType: 'cluster',
        direction: s.direction,
        disableDefaultResponse: false,
        transactionSequenceNumber: 0x42,
        commandId: s.commandId,
      });
      expect(d.payload).toEqual(s.payload);
      // by name as well as by id
      const byName = encodeZclCommand({
        cluster: s.clusterName,
        command: s.commandId,
        direction: s.direction,
        payload: s.payload,
        tsn: 0x42,
      });
      expect(hex(byName)).toBe(hex(frame));
    });
  }
});

describe('exact bytes against the SE 1.4 layouts', () => {
  it('GB-HGRP RequestTunnel (D.6.2.4.1): protocol 6, manufacturer 0xFFFF, no flow control, 1500', () => {
    expect(hex(encodeGbHgrpRequestTunnel(7))).toBe('01' + '07' + '00' + '06' + 'ffff' + '00' + 'dc05');
  });
  it('Get Current Price (D.4.2.3.1)', () => {
    const f = encodeZclCommand({
      cluster: 'sePrice',
      command: 'getCurrentPrice',
      direction: 'clientToServer',
      payload: { commandOptions: 1 },
      tsn: 1,
      disableDefaultResponse: true,
    });
    expect(hex(f)).toBe('11010001');
  });
  it('Display Message (D.5.2.3.1) with the SE 1.2 extended control', () => {
    const f = encodeZclCommand({
      cluster: 0x0703,
      command: 'displayMessage',
      direction: 'serverToClient',
      payload: {
        messageId: 0x01020304,
        messageControl: 0x80,
        startTime: 0,
        durationInMinutes: 0xffff,
        message: 'Hi',
        extendedMessageControl: 0,
      },
      tsn: 2,
    });
    expect(hex(f)).toBe('09' + '02' + '00' + '04030201' + '80' + '00000000' + 'ffff' + '024869' + '00');
  });
  it('Consumer Top Up (D.7.2.3.4)', () => {
    const f = encodeZclCommand({
      cluster: 0x0705,
      command: 'consumerTopUp',
      direction: 'clientToServer',
      payload: { originatingDevice: 2, topUpCode: bytes('3132') },
      tsn: 3,
    });
    expect(hex(f)).toBe('0103040202' + '3132');
  });
  it('Suspend ZCL Messages (D.14) and a manufacturer-specific header', () => {
    const f = encodeZclCommand({
      cluster: 0x070b,
      command: 'suspendZclMessages',
      direction: 'serverToClient',
      payload: { period: 10 },
      tsn: 4,
      manufacturerCode: 0x1234,
    });
    expect(hex(f)).toBe('0d3412' + '04' + '00' + '0a');
    expect(decodeZclFrame(f, { cluster: 0x070b }).header.manufacturerCode).toBe(0x1234);
  });
  it('Supported Tunnel Protocols Response list entries are (manufacturerCode, protocolId)', () => {
    const f = encodeZclCommand({
      cluster: 0x0704,
      command: 'supportedProtocolsRsp',
      direction: 'serverToClient',
      payload: {
        listComplete: 1,
        count: 1,
        protocolList: [packTunnelProtocol({ manufacturerCode: 0xffff, protocolId: 6 })],
      },
      tsn: 5,
    });
    expect(hex(f)).toBe('09050501' + '01' + 'ffff06');
    expect(unpackTunnelProtocol(0x06ffff)).toEqual({ manufacturerCode: 0xffff, protocolId: 6 });
  });
  it('Transfer Data larger than herdsman 250-octet buffer', () => {
    const data = new Uint8Array(1500).map((_, i) => i & 0xff);
    const f = encodeZclCommand({
      cluster: 0x0704,
      command: 'transferData',
      direction: 'clientToServer',
      payload: { tunnelId: 9, data },
      tsn: 6,
    });
    expect(f.length).toBe(3 + 2 + 1500);
    expect(decodeZclFrame(f, { cluster: 0x0704 }).payload).toEqual({ tunnelId: 9, data });
  });
});

describe('foundation commands', () => {
  it('Default Response', () => {
    const f = encodeDefaultResponse({
      direction: 'serverToClient',
      tsn: 9,
      commandId: 0x00,
      statusCode: 0x81,
    });
    expect(hex(f)).toBe('1809' + '0b' + '0081');
    const d = decodeZclFrame(f, { cluster: 0x0800 });
    expect(d.commandName).toBe('defaultRsp');
    expect(d.payload).toEqual({ cmdId: 0, statusCode: 0x81 });
  });
  it('Read Attributes of KeyEstablishmentSuite and Read Attributes Response', () => {
    const r = encodeReadAttributes({ attributeIds: [0x0000], tsn: 1 });
    expect(hex(r)).toBe('0001000000');
    expect(decodeZclFrame(r, { cluster: 0x0800 }).payload).toEqual([{ attrId: 0 }]);
    const rsp = encodeReadAttributesResponse({
      tsn: 1,
      records: [{ attrId: 0, status: 0, dataType: 0x19, attrData: 0x0002 }],
    });
    expect(hex(rsp)).toBe('180101' + '0000' + '00' + '19' + '0200');
    expect(decodeZclFrame(rsp, { cluster: 0x0800 }).payload).toEqual([
      { attrId: 0, status: 0, dataType: 0x19, attrData: 2 },
    ]);
  });
  it('Metering reads: CurrentSummationDelivered (uint48) and an unsupported attribute', () => {
    const rsp = encodeReadAttributesResponse({
      tsn: 3,
      records: [
        { attrId: 0x0000, status: 0, dataType: 0x25, attrData: 123456789 },
        { attrId: 0x0400, status: 0x86 },
      ],
    });
    const d = decodeZclFrame(rsp, { cluster: 'seMetering' });
    expect(d.clusterName).toBe('seMetering');
    expect(d.payload).toEqual([
      { attrId: 0, status: 0, dataType: 0x25, attrData: 123456789 },
      { attrId: 0x0400, status: 0x86 },
    ]);
  });
});

describe('bad input gives typed errors naming the field', () => {
  const tunnelRsp = encodeZclCommand({
    cluster: 0x0704,
    command: 'requestTunnelRsp',
    direction: 'serverToClient',
    payload: { tunnelId: 1, status: 0, maxIncomingTransferSize: 1500 },
    tsn: 1,
  });
  it('truncated header', () => {
    expect(decodeError(() => decodeZclFrame(new Uint8Array(0), { cluster: 0x0704 })).field).toBe(
      'frameControl',
    );
    const e = decodeError(() => decodeZclFrame(bytes('0401'), { cluster: 0x0704 }));
    expect([e.layer, e.code, e.field]).toEqual(['ZCL', 'TRUNCATED', 'manufacturerCode']);
  });
  it('truncated field', () => {
    const e = decodeError(() =>
      decodeZclFrame(tunnelRsp.subarray(0, tunnelRsp.length - 1), { cluster: 0x0704 }),
    );
    expect([e.layer, e.code, e.field]).toEqual(['ZCL', 'TRUNCATED', 'maxIncomingTransferSize']);
  });
  it('trailing octets', () => {
    const e = decodeError(() => decodeZclFrame(Uint8Array.from([...tunnelRsp, 0]), { cluster: 0x0704 }));
    expect([e.code, e.field]).toEqual(['OVERLONG', 'maxIncomingTransferSize']);
  });
  it('a string claiming more octets than remain', () => {
    // Consumer Top Up with a 5-octet code but only 2 present
    const e = decodeError(() => decodeZclFrame(bytes('010304 02 05 3132'), { cluster: 0x0705 }));
    expect([e.code, e.field]).toEqual(['TRUNCATED', 'topUpCode']);
  });
  it('a protocol list shorter than its count', () => {
    const e = decodeError(() => decodeZclFrame(bytes('090505 01 02 ffff06'), { cluster: 0x0704 }));
    expect([e.code, e.field]).toEqual(['TRUNCATED', 'protocolList']);
  });
  it('a boolean that is neither 0 nor 1', () => {
    const e = decodeError(() => decodeZclFrame(bytes('010100 06 ffff 02 dc05'), { cluster: 0x0704 }));
    expect([e.code, e.field]).toEqual(['INVALID_FIELD', 'flowControl']);
  });
  it('unknown command and reserved frame type', () => {
    expect(decodeError(() => decodeZclFrame(bytes('0101 7f'), { cluster: 0x0704 })).code).toBe('UNSUPPORTED');
    expect(decodeError(() => decodeZclFrame(bytes('0201 00'), { cluster: 0x0704 })).field).toBe(
      'frameControl.frameType',
    );
  });
  it('Default Response of the wrong length', () => {
    expect(decodeError(() => decodeZclFrame(bytes('1809 0b 00'), { cluster: 0x0800 })).code).toBe(
      'TRUNCATED',
    );
    expect(decodeError(() => decodeZclFrame(bytes('1809 0b 008100'), { cluster: 0x0800 })).code).toBe(
      'OVERLONG',
    );
  });
  it('Read Attributes Response with a truncated string value', () => {
    const e = decodeError(() => decodeZclFrame(bytes('180101 0000 00 42 05 4142'), { cluster: 0x0000 }));
    expect(e.code).toBe('TRUNCATED');
  });
});

describe('Prepayment record lists', () => {
  it('top-up log and debt log round-trip and reject partial records', () => {
    const topUps = [{ topUpCode: bytes('3132'), topUpAmount: -5, topUpTime: 7 }];
    expect(decodeTopUpLog(encodeTopUpLog(topUps))).toEqual(topUps);
    expect(decodeError(() => decodeTopUpLog(encodeTopUpLog(topUps).subarray(0, 5))).code).toBe('TRUNCATED');
    const debts = [{ collectionTime: 1, amountCollected: 2, debtType: 1, outstandingDebt: 3 }];
    expect(decodeDebtLog(encodeDebtLog(debts))).toEqual(debts);
    expect(decodeError(() => decodeDebtLog(new Uint8Array(14))).field).toBe('debtPayload[1]');
    expect(decodeError(() => decodeDebtCreditStatus(new Uint8Array(23))).code).toBe('TRUNCATED');
  });
});
