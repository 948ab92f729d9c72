import { describe, expect, it } from 'vitest';
import type { IncomingZcl } from '../src/host.js';
import { CH, counterViolations, during, ESME, GSME, installCodeFor, makeNet, PPMID } from './harness.js';

describe('join through association', () => {
  it('coordinator, router, sleepy end device and end device join, announce and exchange data', async () => {
    const net = await makeNet(1);
    const ch = await net.add(CH, 'coordinator');
    const esme = await net.add(ESME, 'router', { x: 3 });
    const gsme = await net.add(GSME, 'sleepy-end-device', { x: 5, pollPeriodUs: 2_000_000 });
    const ppmid = await net.add(PPMID, 'end-device', { x: 2 });
    for (const e of [ESME, GSME, PPMID]) net.deviceLog.set(e, installCodeFor(e));
    expect(await during(net, ch.powerOn(), 1_000)).toBe('formed');
    ch.permitJoin(255);
    for (const n of [esme, gsme, ppmid]) expect(await during(net, n.powerOn(), 1_000)).toBe('not-joined');
    expect(await during(net, esme.join(), 10_000_000)).toBe('joined');
    expect(await during(net, gsme.join(), 10_000_000)).toBe('joined');
    expect(await during(net, ppmid.join(), 10_000_000)).toBe('joined');
    for (const n of [esme, gsme, ppmid]) {
      expect(n.joined).toBe(true);
      expect(n.network?.panId).toBe(0x1a62);
      expect(n.network?.extendedPanId).toBe(CH);
      expect(n.network?.networkKey).toBe(ch.network?.networkKey);
      expect(n.linkKey(CH)).not.toBeNull();
    }
    expect(
      ch
        .children()
        .map((c) => c.eui64)
        .sort(),
    ).toEqual([ESME, GSME, PPMID].sort());
    await net.run(net.bus.time + 3_000_000);
    expect(ch.children().every((c) => c.authenticated)).toBe(true);
    expect(net.deviceEvents(CH, 'transport-key').length).toBe(3);
    expect(
      net
        .deviceEvents(CH, 'device-announced')
        .map((e) => e.eui64)
        .sort(),
    ).toEqual([ESME, GSME, PPMID].sort());

    // Data both ways, NWK and APS-secured.
    const got: Record<string, IncomingZcl[]> = { ch: [], esme: [], gsme: [], ppmid: [] };
    ch.onZcl((m) => void got.ch!.push(m));
    esme.onZcl((m) => void got.esme!.push(m));
    gsme.onZcl((m) => void got.gsme!.push(m));
    ppmid.onZcl((m) => void got.ppmid!.push(m));
    // Price: Get Current Price (cluster-specific, client to server, tsn 1, options 0).
    const zcl = Uint8Array.of(0x01, 0x01, 0x00, 0x00);
    expect(
      (
        await during(
          net,
          esme.sendZcl({ eui64: CH }, { clusterId: 0x0700, zcl, security: 'aps-link' }),
          2_000_000,
        )
      ).status,
    ).toBe('sent');
    expect(
      (await during(net, ch.sendZcl({ eui64: ESME }, { clusterId: 0x0700, zcl, security: 'nwk' }), 2_000_000))
        .status,
    ).toBe('sent');
    // To the sleepy GSME: held by the coordinator until the GSME polls.
    const t0 = net.bus.time;
    expect(
      (
        await during(
          net,
          ch.sendZcl({ eui64: GSME }, { clusterId: 0x0700, zcl, security: 'aps-link' }),
          5_000_000,
        )
      ).status,
    ).toBe('sent');
    expect(net.bus.time - t0).toBeGreaterThan(10_000);
    expect(
      (
        await during(
          net,
          gsme.sendZcl({ eui64: CH }, { clusterId: 0x0700, zcl, security: 'aps-link' }),
          5_000_000,
        )
      ).status,
    ).toBe('sent');
    // PPMID -> GSME through the coordinator (parent forwarding, indirect to the sleepy child).
    // The PPMID has never heard of the GSME's address: NWK_addr_req resolves it.
    expect(
      (
        await during(
          net,
          ppmid.sendZcl({ eui64: GSME }, { clusterId: 0x0700, zcl, security: 'nwk' }),
          8_000_000,
        )
      ).status,
    ).toBe('sent');
    expect(net.deviceEvents(PPMID, 'address-resolved').map((e) => e.short)).toEqual([gsme.shortAddress]);
    // And the sleepy GSME resolves the PPMID's.
    expect(
      (
        await during(
          net,
          gsme.sendZcl({ eui64: PPMID }, { clusterId: 0x0700, zcl, security: 'nwk' }),
          8_000_000,
        )
      ).status,
    ).toBe('sent');
    await net.run(net.bus.time + 3_000_000);
    expect(got.ch!.map((m) => [m.from.eui64, m.security])).toEqual([
      [ESME, 'aps-link'],
      [GSME, 'aps-link'],
    ]);
    expect(got.esme!.map((m) => m.security)).toEqual(['nwk']);
    expect(got.ppmid!.map((m) => [m.from.eui64, m.security])).toEqual([[GSME, 'nwk']]);
    expect(got.gsme!.map((m) => [m.from.eui64, m.security])).toEqual([
      [CH, 'aps-link'],
      [PPMID, 'nwk'],
    ]);
    expect([...got.ch![0]!.zcl]).toEqual([...zcl]);
    expect(net.deviceEvents(GSME, 'frame-dropped')).toEqual([]);
    expect(counterViolations(net.frames)).toEqual([]);
  });
});
