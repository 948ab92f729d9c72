import { describe, expect, it } from 'vitest';
import { MAC_MAX_FRAME_RETRIES } from '../src/mac.js';
import { CH, during, ESME, GSME, joinedNet, PRICE_GET_CURRENT } from './harness.js';

const zcl = { clusterId: 0x0700, zcl: PRICE_GET_CURRENT, security: 'nwk' as const };

function txFrom(net: Awaited<ReturnType<typeof joinedNet>>['net'], eui64: string, since: number) {
  return net.trace.filter((e) => e.type === 'tx' && e.radio === eui64 && e.t >= since && e.bytes > 5);
}

describe('MAC engine', () => {
  it('retries an unacknowledged frame macMaxFrameRetries times, then reports no-ack', async () => {
    const { net, ch, esme } = await joinedNet(41);
    esme.radio.setPower(false); // the ESME's receiver is gone, its RAM is not (a deaf radio)
    const t0 = net.bus.time;
    expect((await during(net, ch.sendZcl({ eui64: ESME }, zcl), 2_000_000)).status).toBe('no-ack');
    expect(txFrom(net, CH, t0).length).toBe(1 + MAC_MAX_FRAME_RETRIES);
    expect(net.deviceEvents(CH, 'mac-no-ack').length).toBe(1);
  });

  it('CSMA-CA gives up on a jammed channel (channel access failure)', async () => {
    const { net, ch, esme } = await joinedNet(42);
    const now = net.bus.time;
    net.bus.addJammer({
      band: '2.4GHz',
      page: 0,
      channel: ch.network!.channel,
      position: { x: 1, y: 0 },
      txPowerDbm: 0,
      startUs: now + 1_000,
      endUs: now + 1_000_000,
    });
    await net.run(now + 2_000);
    expect((await during(net, esme.sendZcl({ eui64: CH }, zcl), 500_000)).status).toBe('no-ack');
    expect(net.deviceEvents(ESME, 'mac-channel-access-failure').length).toBe(1);
    expect(txFrom(net, ESME, now).length).toBe(0);
    await net.run(now + 1_100_000);
    expect((await during(net, esme.sendZcl({ eui64: CH }, zcl), 500_000)).status).toBe('sent');
  });

  it('a frame held for a sleepy child that never polls expires', async () => {
    const { net, ch, gsme } = await joinedNet(43);
    gsme.powerOff();
    // The coordinator's clock is where its last bus message left it (lock-step): measure from there.
    const t0 = ch.clock.now();
    expect((await during(net, ch.sendZcl({ eui64: GSME }, zcl), 10_000_000)).status).toBe('no-ack');
    const expired = net.deviceEvents(CH, 'mac-indirect-expired');
    expect(expired.length).toBe(1);
    expect(expired[0]!.t - t0).toBeGreaterThanOrEqual(7_680_000);
  });
});

describe('an acknowledgment owed while the layers above retune', () => {
  it('goes out on the channel its frame came in on, before the radio moves', async () => {
    const { net, ch, esme } = await joinedNet(44);
    const channel = ch.network!.channel;
    // On the CH's frame the ESME's application moves it to another channel at once.
    esme.onZcl(() => esme.tune(0, 20));
    const t0 = net.bus.time;
    expect((await during(net, ch.sendZcl({ eui64: ESME }, zcl), 2_000_000)).status).toBe('sent');
    // One transmission by the CH (no retries: the ack arrived), and the ESME's ack on the old channel.
    expect(txFrom(net, CH, t0)).toHaveLength(1);
    const acks = net.trace.filter((e) => e.type === 'tx' && e.radio === ESME && e.t >= t0 && e.bytes === 5);
    expect(acks).toHaveLength(1);
    expect(acks[0]).toMatchObject({ channel });
    expect(net.deviceEvents(CH, 'mac-no-ack')).toEqual([]);
    await net.run(net.bus.time + 10_000);
    expect(esme.radio.registration.channel).toBe(20);
  });
});

describe('routing in the star', () => {
  it('a frame between two HAN devices goes through the coordinator, whichever of them sends it', async () => {
    const { net, ch, esme, gsme } = await joinedNet(45);
    const hops = async (from: typeof esme, to: string) => {
      const t0 = net.bus.time;
      expect((await during(net, from.sendZcl({ eui64: to }, zcl), 10_000_000)).status).toBe('sent');
      await net.run(net.bus.time + 3_000_000);
      return net.deviceEvents(CH, 'nwk-relayed').filter((e) => e.t >= t0 && e.to === to);
    };
    expect(
      ch
        .children()
        .map((c) => c.eui64)
        .sort(),
    ).toEqual([ESME, GSME].sort());
    expect(await hops(gsme, ESME)).toHaveLength(1); // end device -> its parent -> router
    expect(await hops(esme, GSME)).toHaveLength(1); // router -> coordinator -> sleepy child
  });
});
