/**
 * Wireshark as the outside judge: the capture of a real run (joins, Transport Key, data with
 * NWK and APS security, a power cycle and secured rejoin) dissects without malformed frames
 * and, given only the keys the nodes exported, every secured frame decrypts.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildPcap, LINKTYPE_IEEE802_15_4_WITHFCS } from '@gbhan/radio-bus';
import { malformedCount, tempFile, tsharkFields } from '@gbhan/testing/tshark';
import { beforeAll, describe, expect, it } from 'vitest';
import { CH, during, ESME, GSME, joinedNet, PRICE_GET_CURRENT } from './harness.js';

describe('tshark reads the capture of a join', () => {
  let pcap: string;
  let keyLines: string[];
  let keyArgs: string[];

  beforeAll(async () => {
    const { net, ch, esme, gsme } = await joinedNet(11);
    const zcl = { clusterId: 0x0700, zcl: PRICE_GET_CURRENT };
    await during(net, esme.sendZcl({ eui64: CH }, { ...zcl, security: 'aps-link' }), 2_000_000);
    await during(net, ch.sendZcl({ eui64: GSME }, { ...zcl, security: 'aps-link' }), 3_000_000);
    await during(net, gsme.sendZcl({ eui64: CH }, { ...zcl, security: 'nwk' }), 3_000_000);
    // A CBKE-style key installed later by an application is exported too.
    const partner = new Uint8Array(16).map((_, i) => 0xa0 + i);
    ch.setLinkKey(ESME, partner, 'cbke');
    esme.setLinkKey(CH, partner, 'cbke');
    await during(net, esme.sendZcl({ eui64: CH }, { ...zcl, security: 'aps-link' }), 2_000_000);
    esme.powerOff();
    await net.run(net.bus.time + 200_000);
    await during(net, esme.powerOn(), 5_000_000);
    await during(net, esme.sendZcl({ eui64: CH }, { ...zcl, security: 'aps-link' }), 2_000_000);
    pcap = tempFile('stack-join.pcap', buildPcap(LINKTYPE_IEEE802_15_4_WITHFCS, net.frames));
    keyLines = net.keys.wiresharkKeyLines();
    keyArgs = net.keys.tsharkOptions();
  });

  it('exports the network key and every link key', () => {
    expect(keyLines.filter((l) => l.includes('"Normal","network')).length).toBe(1);
    expect(keyLines.filter((l) => l.includes('link install-code')).length).toBe(2);
    expect(keyLines.filter((l) => l.includes('link cbke')).length).toBe(1);
    for (const l of keyLines) expect(l).toMatch(/^"[0-9a-f]{32}","Normal","[^"]+"$/);
  });

  it('dissects with 0 malformed frames', () => {
    expect(malformedCount(pcap, keyArgs)).toBe(0);
    expect(malformedCount(pcap)).toBe(0);
  });

  it('decrypts every NWK- and APS-secured frame with the exported keys (given as a zigbee_pc_keys file)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gbhan-wsconf-'));
    writeFileSync(join(dir, 'zigbee_pc_keys'), `${keyLines.join('\n')}\n`);
    const fields = [
      'frame.number',
      'zbee.sec.key_id',
      'zbee.sec.decryption_key',
      '_ws.expert.message',
      'wpan.fcs_ok',
      'zbee.sec.key.origin',
    ];
    const withKeys = tsharkFieldsEnv(pcap, fields, dir);
    const secured = withKeys.filter((r) => (r[1] ?? '') !== '');
    expect(secured.length).toBeGreaterThanOrEqual(12);
    const notDecrypted = secured.filter(
      (r) => (r[3] ?? '').includes('Encrypted Payload') || `${r[2]}${r[5]}` === '',
    );
    expect(notDecrypted).toEqual([]);
    for (const r of withKeys) expect(r[4]).toBe('1');
    // Keys from our file show their label (tshark may also reuse a key it learned from Transport Key).
    expect(secured.filter((r) => (r[2] ?? '') !== '').length).toBeGreaterThan(0);
    // Both layers and the key-transport key appear: network (1), data (0), key-transport (2).
    const ids = new Set(secured.flatMap((r) => (r[1] ?? '').split(',')));
    expect([...ids].sort()).toEqual(['0x00', '0x01', '0x02']);
  });

  it('the exported network key alone opens every NWK layer', () => {
    const nwkLine = keyLines.find((l) => l.includes('"Normal","network'))!;
    const rows = tsharkFields(
      pcap,
      ['frame.number', 'zbee.sec.key_id', 'zbee.sec.decryption_key', '_ws.expert.message'],
      ['-o', `uat:zigbee_pc_keys:${nwkLine}`],
    );
    const nwkSecured = rows.filter((r) => (r[1] ?? '').split(',')[0] === '0x01');
    expect(nwkSecured.length).toBeGreaterThanOrEqual(10);
    for (const r of nwkSecured) {
      expect(r[2]).toContain('network');
      // Whatever stays encrypted is an APS layer under a link key (data key id 0x00).
      if ((r[3] ?? '').includes('Encrypted Payload')) expect(r[1]).toBe('0x01,0x00');
    }
  });

  it('cannot read them without the keys (the decryption is real)', () => {
    const rows = tsharkFields(pcap, ['frame.number', 'zbee.sec.key_id', '_ws.expert.message']);
    const secured = rows.filter((r) => (r[1] ?? '') !== '');
    expect(secured.every((r) => (r[2] ?? '').includes('Encrypted Payload'))).toBe(true);
  });
});

function tsharkFieldsEnv(pcap: string, fields: string[], configDir: string): string[][] {
  const prev = process.env.WIRESHARK_CONFIG_DIR;
  process.env.WIRESHARK_CONFIG_DIR = configDir;
  try {
    return tsharkFields(pcap, fields);
  } finally {
    if (prev === undefined) delete process.env.WIRESHARK_CONFIG_DIR;
    else process.env.WIRESHARK_CONFIG_DIR = prev;
  }
}

describe('determinism', () => {
  it('the same run twice gives identical traces', async () => {
    const run = async () => {
      const { net, ch, esme, gsme } = await joinedNet(21);
      await during(
        net,
        gsme.sendZcl({ eui64: CH }, { clusterId: 0x0700, zcl: PRICE_GET_CURRENT, security: 'aps-link' }),
        3_000_000,
      );
      await during(
        net,
        ch.sendZcl({ eui64: ESME }, { clusterId: 0x0700, zcl: PRICE_GET_CURRENT, security: 'nwk' }),
        3_000_000,
      );
      esme.powerOff();
      await net.run(net.bus.time + 100_000);
      await during(net, esme.powerOn(), 5_000_000);
      return JSON.stringify(net.trace);
    };
    const a = await run();
    const b = await run();
    expect(a.length).toBeGreaterThan(10_000);
    expect(a === b).toBe(true);
  });
});
