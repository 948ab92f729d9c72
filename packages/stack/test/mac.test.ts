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
