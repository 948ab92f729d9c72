/**
 * Commissioning on the real stack and the real in-process bus: CH + ESME + GSME + PPMID join
 * with install codes, run CBKE with the CH, the CHF opens the GB-HGRP tunnels, the ESME's
 * register advances, the PPMID shows readings and tops up, a device not in the Device Log is
 * refused and logged.
 *
 * Cross-package on purpose (it imports @gbhan/meter and @gbhan/ppmid in a test only): device
 * packages meet on the air, and this is where they do.
 */
import { MINUTE, SECOND } from '@gbhan/clock';
import { Esme, Gsme } from '@gbhan/meter';
import { Ppmid } from '@gbhan/ppmid';
import { BusRadio, type BusTraceEvent, InProcessTransport, RadioBus } from '@gbhan/radio-bus';
import { MemoryNvStore } from '@gbhan/stack';
import { appendInstallCodeCrc, toHex } from '@gbhan/zigbee';
import { describe, expect, it } from 'vitest';
import { CommsHub } from '../src/index.js';

const CH = '00124b0000c0ffee';
const ESME = '00124b0000e5e5e5';
const GSME = '00124b0000065e5e';
const PPMID = '00124b0000bbbbbb';
const ROGUE = '00124b0000dead00';

function installCode(eui64: string): string {
  const code = new Uint8Array(16);
  for (let i = 0; i < 16; i++)
    code[i] = (parseInt(eui64.slice((i % 8) * 2, (i % 8) * 2 + 2), 16) + i * 31) & 0xff;
  return toHex(appendInstallCodeCrc(code));
}

async function setup(cbkeSuite: 1 | 2 = 2) {
  const seed = 'commissioning-1';
  const bus = new RadioBus({ seed: 1 });
  const trace: BusTraceEvent[] = [];
  bus.onTrace((e) => trace.push(e));
  const radio = (eui64: string, x: number) =>
    BusRadio.connect(new InProcessTransport(bus), {
      eui64,
      band: '2.4GHz',
      page: 0,
      channel: 15,
      position: { x, y: 0 },
    });
  const channels = [{ page: 0, channel: 15 }];
  // GB uses suite 2: its Initiate Key Establishment (74-octet certificate) crosses as APS
  // fragments (142 octets unfragmented).
  const hub = new CommsHub({
    radio: await radio(CH, 0),
    nvm: new MemoryNvStore(),
    seed,
    config: {
      cbkeSuite,
      panId: 0x1a62,
      channels,
      deviceLog: [
        { eui64: ESME, deviceType: 'ESME', installCode: installCode(ESME) },
        { eui64: GSME, deviceType: 'GSME', installCode: installCode(GSME) },
        { eui64: PPMID, deviceType: 'PPMID', installCode: installCode(PPMID) },
      ],
    },
  });
  const esme = new Esme({
    radio: await radio(ESME, 3),
    nvm: new MemoryNvStore(),
    seed,
    config: {
      cbkeSuite,
      chEui64: CH,
      installCode: installCode(ESME),
      channels,
      loadW: 2000,
      prepayment: { initialCredit: 1000 },
    },
  });
  const gsme = new Gsme({
    radio: await radio(GSME, 5),
    nvm: new MemoryNvStore(),
    seed,
    config: {
      cbkeSuite,
      chEui64: CH,
      installCode: installCode(GSME),
      channels,
      reportPeriodUs: 2 * MINUTE, // default poll period (7.5 s): CBKE relies on fast poll
    },
  });
  const ppmid = new Ppmid({
    radio: await radio(PPMID, 2),
    nvm: new MemoryNvStore(),
    seed,
    config: {
      cbkeSuite,
      chEui64: CH,
      esmeEui64: ESME,
      installCode: installCode(PPMID),
      channels,
      readPeriodUs: 30 * SECOND,
    },
  });
  const rogue = new Esme({
    radio: await radio(ROGUE, 4),
    nvm: new MemoryNvStore(),
    seed,
    config: { cbkeSuite, chEui64: CH, installCode: installCode(ROGUE), channels, joinRetryUs: 10 * MINUTE },
  });
  const events = (radioId: string, type: string) =>
    trace
      .filter((e): e is Extract<BusTraceEvent, { type: 'device' }> => e.type === 'device')
      .filter((e) => e.radio === radioId && e.event.type === type)
      .map((e): Record<string, unknown> => ({ ...e.event, t: e.t }));
  const dump = () => {
    if (!process.env.DUMP) return;
    for (const e of trace)
      if (e.type === 'device') console.log(e.t, e.radio, JSON.stringify(e.event).slice(0, 300));
  };
  const close = () => {
    for (const d of [hub, esme, gsme, ppmid, rogue]) d.close();
    bus.close();
  };
  return { bus, hub, esme, gsme, ppmid, rogue, events, dump, close };
}

describe('commissioning on the real stack', () => {
  it('joins, runs CBKE, opens tunnels, reads and tops up; refuses a device not in the Device Log', async () => {
    const { bus, hub, esme, gsme, ppmid, rogue, events, dump, close } = await setup(2);
    bus.scheduleControl(PPMID, 5 * MINUTE, { action: 'top-up', code: '00000000000042000500' });
    bus.scheduleControl(CH, 6 * MINUTE, { action: 'read-meter', target: ESME });
    await bus.runUntil(7 * MINUTE);
    dump();
    // joined, CBKE (suite 2, fragmented Initiate messages) with the CH: both sides hold the same key
    for (const [dev, eui] of [
      [esme, ESME],
      [gsme, GSME],
      [ppmid, PPMID],
    ] as const) {
      expect(dev.node.joined, eui).toBe(true);
      const theirs = dev.node.linkKey(CH);
      expect(theirs).not.toBeNull();
      expect(hub.node.linkKey(eui)).toEqual(theirs);
      expect(events(eui, 'cbke-established').filter((e) => e.peer === CH)).toMatchObject([{ suite: 2 }]);
      expect(events(eui, 'cbke-failed')).toEqual([]);
      expect(hub.app!.deviceLog.get(eui)?.commissioned).toBe(true);
    }
    // partner link key from the Trust Centre (APS Request Key), then device-to-device CBKE PPMID -> ESME
    expect(events(PPMID, 'ppmid-partner-key')).toMatchObject([{ partner: ESME, result: 'received' }]);
    expect(events(CH, 'partner-key')).toMatchObject([{ requester: PPMID, partner: ESME, status: 'sent' }]);
    expect(events(PPMID, 'cbke-established').filter((e) => e.peer === ESME)).toMatchObject([{ suite: 2 }]);
    expect(ppmid.node.linkKey(ESME)).toEqual(esme.node.linkKey(PPMID));
    // tunnels to ESME and PPMID
    expect(hub.app!.tunnels.state(ESME)).toBe('open');
    expect(hub.app!.tunnels.state(PPMID)).toBe('open');
    // the ESME register advances with virtual time (2 kW)
    const wh = esme.app!.register.summation();
    expect(wh).toBeGreaterThan(200);
    // the PPMID shows readings and credit, and topped up
    const shown = events(PPMID, 'ppmid-display');
    expect(shown.length).toBeGreaterThan(2);
    const last = shown.at(-1)! as Record<string, unknown>;
    expect(last.electricityWh).toBeGreaterThan(0);
    expect(typeof last.credit).toBe('number');
    expect(events(PPMID, 'ppmid-top-up-result')).toMatchObject([{ resultType: 0, value: 500 }]);
    expect(esme.app!.prepayment!.topUpLog).toHaveLength(1);
    // the GSME checked in and the GPF mirror holds its register
    expect(hub.app!.gpf.mirror(GSME)?.summation).toBeGreaterThanOrEqual(0);
    expect(events(CH, 'gpf-mirror-update').length).toBeGreaterThan(0);
    // DCC read through the tunnel
    expect(events(CH, 'wan-response').some((e) => e.command === 'readRsp' && e.from === ESME)).toBe(true);
    // the rogue was refused and security-logged
    expect(rogue.node.joined).toBe(false);
    expect(events(CH, 'join-refused').some((e) => e.eui64 === ROGUE)).toBe(true);
    expect(hub.node.securityLog.entries().some((e) => e.event === 'join-refused')).toBe(true);

    close();
  });

  it('queues a DCC read for the sleepy GSME, refuses DCC commands with the WAN down, reopens tunnels after a CH power cycle', async () => {
    // Suite 1 (sect163k1, 48-octet certificates: no fragmentation) stays covered here.
    const { bus, hub, esme, events, dump, close } = await setup(1);
    await bus.runUntil(3 * MINUTE);
    bus.scheduleControl(CH, 3 * MINUTE + SECOND, { action: 'read-meter', target: GSME, live: true });
    bus.scheduleControl(CH, 4 * MINUTE, { action: 'wan-down' });
    bus.scheduleControl(CH, 4 * MINUTE + SECOND, { action: 'read-meter', target: ESME });
    bus.scheduleControl(CH, 4 * MINUTE + 2 * SECOND, { action: 'wan-up' });
    bus.scheduleControl(CH, 5 * MINUTE, { action: 'power-off' });
    bus.scheduleControl(CH, 5 * MINUTE + 10 * SECOND, { action: 'power-on' });
    bus.scheduleControl(CH, 7 * MINUTE, { action: 'update-device-log', op: 'remove', eui64: PPMID });
    await bus.runUntil(8 * MINUTE);
    dump();
    // the live read waited in the GPF queue until the GSME checked in, then came back
    const queued = events(CH, 'gpf-queued');
    const delivered = events(CH, 'gpf-deliver');
    expect(queued).toHaveLength(1);
    expect(delivered).toHaveLength(1);
    expect(delivered[0]!.t as number).toBeGreaterThan(queued[0]!.t as number);
    expect(events(CH, 'wan-response').some((e) => e.via === 'gpf' && e.requestId === queued[0]!.tag)).toBe(
      true,
    );
    // WAN down: a typed failure, traced
    expect(events(CH, 'wan-command-failed')).toMatchObject([{ code: 'WAN_DOWN' }]);
    // power cycle: the CH asks for the tunnels again at power-on and gets them
    const afterPowerOn = events(CH, 'tunnel-request-sent').filter((e) => e.why === 'power-on');
    expect(afterPowerOn.map((e) => e.peer).sort()).toEqual([ESME, PPMID].sort());
    expect(hub.app!.tunnels.state(ESME)).toBe('open');
    expect(hub.app!.deviceLog.get(ESME)?.commissioned).toBe(true);
    // removal from the Device Log: key and tunnel gone, the CHF no longer talks to it
    expect(hub.app!.deviceLog.has(PPMID)).toBe(false);
    expect(hub.node.linkKey(PPMID)).toBeNull();
    expect(hub.app!.tunnels.state(PPMID)).toBe('none');
    expect(esme.app!.register.summation()).toBeGreaterThan(0);
    close();
  });
});
