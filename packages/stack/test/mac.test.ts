import { describe, expect, it } from 'vitest';
import { MAC_MAX_FRAME_RETRIES } from '../src/mac.js';
import { CH, during, ESME, GSME, joinedNet, PRICE_GET_CURRENT } from './harness.js';

const zcl = { clusterId: 0x0700, zcl: PRICE_GET_CURRENT, security: 'nwk' as const };

type Net = Awaited<ReturnType<typeof joinedNet>>['net'];

function txFrom(net: Net, eui64: string, since: number) {
  return net.trace.filter((e) => e.type === 'tx' && e.radio === eui64 && e.t >= since && e.bytes > 5);
}

/** The instant `eui64` heard the last bit of the frame `tx` traced. */
function heardAt(net: Net, eui64: string, tx: Net['trace'][number]): number {
  const frame = tx.type === 'tx' ? tx.frame : -1;
  const rx = net.trace.find((e) => e.type === 'rx' && e.radio === eui64 && e.frame === frame);
  if (rx === undefined) throw new Error(`${eui64} did not hear frame ${frame}`);
  return rx.t;
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

describe('an acknowledgment held by the bus', () => {
  it('goes on the air aTurnaroundTime after the frame it acknowledges ended', async () => {
    const { net, ch } = await joinedNet(46);
    const t0 = net.bus.time;
    expect((await during(net, ch.sendZcl({ eui64: ESME }, zcl), 2_000_000)).status).toBe('sent');
    const data = txFrom(net, CH, t0)[0]!;
    const heard = heardAt(net, ESME, data);
    const acks = net.trace.filter((e) => e.type === 'tx' && e.radio === ESME && e.t >= t0 && e.bytes === 5);
    expect(acks).toHaveLength(1);
    // 12 symbols of 16 us at 2.4 GHz (IEEE 802.15.4-2006 §6.4.1 aTurnaroundTime).
    expect(acks[0]!.t - heard).toBe(192);
  });

  it('is withdrawn when the device is reset before it went out (its RAM is gone)', async () => {
    const { net, ch, esme } = await joinedNet(47);
    // On the CH's frame the ESME resets at once, then powers on again: the radio is on when the ack was due.
    esme.onZcl(() => {
      esme.powerOff();
      void esme.powerOn();
    });
    const t0 = net.bus.time;
    await during(net, ch.sendZcl({ eui64: ESME }, zcl), 2_000_000);
    const data = txFrom(net, CH, t0)[0]!;
    const heard = heardAt(net, ESME, data);
    const acks = net.trace.filter(
      (e) => e.type === 'tx' && e.radio === ESME && e.bytes === 5 && e.t >= heard && e.t <= heard + 1_000,
    );
    expect(acks).toEqual([]);
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
