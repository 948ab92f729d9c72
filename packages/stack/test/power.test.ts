import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BusRadio, InProcessTransport } from '@gbhan/radio-bus';
import { describe, expect, it } from 'vitest';
import { ZigbeeNode } from '../src/node.js';
import { FileNvStore } from '../src/nvm.js';
import {
  CH,
  counterViolations,
  during,
  ESME,
  GSME,
  installCodeFor,
  joinedNet,
  nwkCounters,
  PRICE_GET_CURRENT,
} from './harness.js';

const zcl = { clusterId: 0x0700, zcl: PRICE_GET_CURRENT, security: 'aps-link' as const };

describe('power cycles and frame counters', () => {
  it('power off loses RAM, power on rejoins (secured NWK rejoin) and never reuses a frame counter', async () => {
    const { net, ch, esme, gsme } = await joinedNet(2);
    for (let i = 0; i < 3; i++) await during(net, esme.sendZcl({ eui64: CH }, zcl), 2_000_000);
    await during(net, gsme.sendZcl({ eui64: CH }, zcl), 3_000_000);
    await during(net, ch.sendZcl({ eui64: ESME }, zcl), 2_000_000);
    const esmeShort = esme.shortAddress;

    esme.powerOff();
    gsme.powerOff();
    expect(esme.joined).toBe(false);
    expect(esme.network).toBeNull(); // RAM is gone
    expect(esme.nvm.read('stack.network')).toBeTruthy(); // NVM is not
    await net.run(net.bus.time + 1_000_000);
    expect(await during(net, esme.powerOn(), 5_000_000)).toBe('joined');
    expect(await during(net, gsme.powerOn(), 8_000_000)).toBe('joined');
    expect(esme.shortAddress).toBe(esmeShort);
    expect(net.deviceEvents(ESME, 'rejoined').length).toBe(1);
    expect(net.deviceEvents(GSME, 'rejoined').length).toBe(1);
    expect(net.deviceEvents(CH, 'rejoin-response').map((e) => e.status)).toEqual([0, 0]);
    expect(net.deviceEvents(ESME, 'joined').length).toBe(1); // no new association

    // The coordinator's own power cycle: it resumes its network from NVM.
    ch.powerOff();
    await net.run(net.bus.time + 500_000);
    expect(await during(net, ch.powerOn(), 1_000)).toBe('formed');
    const got: string[] = [];
    ch.onZcl((m) => void got.push(`${m.from.eui64}/${m.security}`));
    for (let i = 0; i < 2; i++)
      expect((await during(net, esme.sendZcl({ eui64: CH }, zcl), 2_000_000)).status).toBe('sent');
    expect((await during(net, gsme.sendZcl({ eui64: CH }, zcl), 3_000_000)).status).toBe('sent');
    expect((await during(net, ch.sendZcl({ eui64: ESME }, zcl), 2_000_000)).status).toBe('sent');
    expect((await during(net, ch.sendZcl({ eui64: GSME }, zcl), 3_000_000)).status).toBe('sent');
    await net.run(net.bus.time + 100_000);
    expect(got).toEqual([`${ESME}/aps-link`, `${ESME}/aps-link`, `${GSME}/aps-link`]);

    const counters = nwkCounters(net.frames);
    for (const who of [CH, ESME, GSME])
      expect(counters.filter((c) => c.sender === who).length).toBeGreaterThanOrEqual(3);
    expect(counterViolations(net.frames)).toEqual([]);
  });

  it('a FileNvStore node rebuilt from its file after a crash resumes above every counter it used', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'gbhan-stack-')), 'esme.json');
    const { net, esme } = await joinedNet(3, { esmeNvm: new FileNvStore(path) });
    for (let i = 0; i < 5; i++) await during(net, esme.sendZcl({ eui64: CH }, zcl), 2_000_000);
    const used = Math.max(
      ...nwkCounters(net.frames)
        .filter((c) => c.sender === ESME)
        .map((c) => c.counter),
    );
    // Crash: the radio's connection vanishes, the object is dropped without any shutdown.
    esme.radio.close();
    await net.run(net.bus.time + 1_000_000);
    const radio = await BusRadio.connect(new InProcessTransport(net.bus), {
      eui64: ESME,
      band: '2.4GHz',
      page: 0,
      channel: 15,
      position: { x: 3, y: 0 },
    });
    const reborn = new ZigbeeNode(radio, new FileNvStore(path), {
      role: 'router',
      seed: 3,
      installCode: installCodeFor(ESME),
      extendedPanId: CH,
      channels: [{ page: 0, channel: 15 }],
    });
    expect(await during(net, reborn.powerOn(), 5_000_000)).toBe('joined');
    expect((await during(net, reborn.sendZcl({ eui64: CH }, zcl), 2_000_000)).status).toBe('sent');
    const after = nwkCounters(net.frames).filter((c) => c.sender === ESME && c.counter > used);
    expect(after.length).toBeGreaterThan(0);
    expect(counterViolations(net.frames)).toEqual([]);
    expect(reborn.linkKey(CH)).not.toBeNull();
    void GSME;
  });

  it('powerOff is safe once the radio is closed (process mode: the bus went away)', async () => {
    const { net, esme, gsme } = await joinedNet(31);
    esme.radio.close();
    gsme.radio.close();
    expect(() => esme.powerOff()).not.toThrow();
    expect(() => gsme.powerOff()).not.toThrow();
    expect(esme.isPowered).toBe(false);
    await net.run(net.bus.time + 1_000_000);
  });
});
