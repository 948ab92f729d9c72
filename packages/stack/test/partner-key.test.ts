/**
 * APS Request Key for a partner (application) link key (05-3474 §4.4.5, §4.4.10.5) on the real
 * stack: the Trust Centre answers with Transport Key (applicationLink) to both devices, which
 * then talk end to end with APS security under that key (relayed by the coordinator); a
 * refused request gets no key and is traced and security-logged.
 */
import { buildPcap, LINKTYPE_IEEE802_15_4_WITHFCS } from '@gbhan/radio-bus';
import { malformedCount, tempFile, tsharkFields } from '@gbhan/testing/tshark';
import { describe, expect, it } from 'vitest';
import type { IncomingZcl } from '../src/host.js';
import { CH, during, ESME, GSME, joinedNet, PRICE_GET_CURRENT } from './harness.js';

describe('partner link keys from the Trust Centre', () => {
  it('gives both devices the same key; APS-secured frames then cross between them', async () => {
    const { net, ch, esme, gsme } = await joinedNet(41);
    expect(await during(net, gsme.requestPartnerLinkKey(ESME), 10e6)).toBe('received');
    await net.run(net.bus.time + 500_000);
    const key = gsme.linkKey(ESME);
    expect(key).not.toBeNull();
    expect(esme.linkKey(GSME)).toEqual(key);
    expect(ch.linkKey(GSME)).not.toEqual(key); // the TC keeps its own link keys
    expect(net.deviceEvents(CH, 'partner-key')).toMatchObject([
      { requester: GSME, partner: ESME, status: 'sent' },
    ]);
    expect(net.deviceEvents(undefined, 'link-key').filter((e) => e.origin === 'partner')).toHaveLength(2);
    const got: IncomingZcl[] = [];
    esme.onZcl((m) => {
      got.push(m);
    });
    const r = await during(
      net,
      gsme.sendZcl({ eui64: ESME }, { clusterId: 0x0700, zcl: PRICE_GET_CURRENT, security: 'aps-link' }),
      5e6,
    );
    expect(r).toEqual({ status: 'sent' });
    await net.run(net.bus.time + 500_000);
    expect(got.map((m) => [m.from.eui64, m.security])).toEqual([[GSME, 'aps-link']]);
    // Wireshark: Request Key and both Transport Keys (application link) decrypt and dissect.
    const pcap = tempFile('partner-key.pcap', buildPcap(LINKTYPE_IEEE802_15_4_WITHFCS, net.frames));
    const keys = net.keys.tsharkOptions();
    expect(malformedCount(pcap, keys)).toBe(0);
    const cmds = tsharkFields(
      pcap,
      ['zbee_aps.cmd.id', 'zbee_aps.cmd.key_type'],
      [...keys, '-Y', 'zbee_aps.cmd.id'],
    );
    expect(cmds.filter((r) => r[0] === '0x08')).toHaveLength(1);
    expect(cmds.filter((r) => r[0] === '0x05' && r[1] === '0x03')).toHaveLength(2);
  });

  it('refused by the policy: no key, traced and security-logged', async () => {
    const { net, ch, esme } = await joinedNet(42);
    // The default policy asks for two authenticated children: an unknown partner is refused.
    expect(await during(net, esme.requestPartnerLinkKey('00124b00000000aa', 2e6), 5e6)).toBe('no-key');
    expect(esme.linkKey('00124b00000000aa')).toBeNull();
    expect(net.deviceEvents(CH, 'partner-key')).toMatchObject([{ requester: ESME, status: 'refused' }]);
    expect(ch.securityLog.entries().some((e) => e.event === 'partner-key-refused')).toBe(true);
    // Only the Trust Centre hands out partner keys.
    expect(await ch.requestPartnerLinkKey(ESME)).toBe('not-joined');
  });
});
