/**
 * Reset HAN on the real stack and the real in-process bus: an ESME joined to a coordinator
 * (a plain `ZigbeeNode` playing the CH: trust centre with a Device Log, no CBKE responder, so
 * the ESME's CBKE with it stays in progress). Checks the state diff, the §3.6.1.4.1 state,
 * the tamper log, power loss in the middle of the reset, a reset during CBKE, and that no
 * frame over the air reaches the optical commands.
 */
import { MINUTE, SECOND } from '@gbhan/clock';
import { MemoryNvStore, type NvValue, ZigbeeNode } from '@gbhan/stack';
import { realBus } from '@gbhan/testing';
import { appendInstallCodeCrc, installCodeLinkKey, toHex } from '@gbhan/zigbee';
import { describe, expect, it } from 'vitest';
import { Esme, generateManufacturerKeyPair, ManufacturerTool, RESET_HAN_ALLOWED_KEYS } from '../src/index.js';

const SEED = 'reset-han-1';
const CH = '00124b0000c0ffee';
const ESME = '00124b0000e5e5e5';
/** The run's manufacturer key (random, as a scenario run's). */
const KEY = generateManufacturerKeyPair();
const IC = toHex(appendInstallCodeCrc(Uint8Array.from({ length: 16 }, (_, i) => (i * 37 + 5) & 0xff)));

/** A store that loses power during the commit that removes the network state. */
class PowerCutStore extends MemoryNvStore {
  cutDuringReset = false;
  override commit(changes: Record<string, NvValue | undefined>): void {
    if (this.cutDuringReset && 'stack.network' in changes && changes['stack.network'] === undefined) {
      this.cutDuringReset = false;
      this.failNextCommit = true;
    }
    super.commit(changes);
  }
}

async function setup() {
  const { bus, trace, radio, ev, crashes } = await realBus(1);
  const channels = [{ page: 0, channel: 15 }];
  const ch = new ZigbeeNode(await radio(CH, 0, 15), new MemoryNvStore(), {
    role: 'coordinator',
    seed: SEED,
    panId: 0x1a62,
    channels,
    admission: (eui) => (eui === ESME ? { linkKey: installCodeLinkKey(IC) } : null),
  });
  void ch.powerOn();
  ch.permitJoin(255);
  const nvm = new PowerCutStore();
  const esme = new Esme({
    radio: await radio(ESME, 3, 15),
    nvm,
    seed: SEED,
    config: {
      chEui64: CH,
      installCode: IC,
      channels,
      loadW: 2000,
      cbkeTiming: 'advertised',
      manufacturerPublicKey: toHex(KEY.publicKey),
    },
  });
  const run = async (us: number) => {
    await new Promise((r) => setImmediate(r));
    await bus.runUntil(bus.time + us);
  };
  const deviceEvents = (type: string) => ev(ESME, type);
  return { bus, ch, esme, nvm, run, trace, deviceEvents, crashes };
}

function unlock(esme: Esme): void {
  const port = esme.triage.optical;
  const c = port.handle({ command: 'challenge' });
  if (!c.ok) throw new Error(c.code);
  const r = port.handle({
    command: 'unlock',
    signature: new ManufacturerTool(KEY.secretKey).unlockResponse(ESME, String(c.challenge)),
  });
  if (!r.ok) throw new Error(r.code);
}

describe('Reset HAN on the real stack', () => {
  it('changes exactly the allowed NVM keys, reaches the post-reset state, logs the tamper event; reset during CBKE', async () => {
    const s = await setup();
    for (let i = 0; i < 30 && s.esme.app?.cbke.state(CH) === 'idle'; i++) await s.run(SECOND);
    expect(s.esme.node.joined).toBe(true);
    // The coordinator has no CBKE responder: the ESME's CBKE with it is in progress.
    expect(s.esme.app?.cbke.state(CH)).not.toBe('idle');
    // A partner key and a CBKE-style key stand for the old HAN's application keys.
    s.esme.node.setLinkKey(CH, new Uint8Array(16).fill(7), 'cbke');
    s.esme.node.setLinkKey('00124b0000bbbbbb', new Uint8Array(16).fill(9), 'partner');
    s.nvm.commit({ 'app.cbkeDone': [CH] });
    const before = s.nvm.snapshot();

    // Locked: refused, logged, nothing changed but the log.
    const refused = s.esme.triage.optical.handle({ command: 'reset-han' });
    expect(refused).toMatchObject({ ok: false, code: 'OPTICAL_LOCKED' });
    expect(s.esme.node.joined).toBe(true);

    unlock(s.esme);
    const r = s.esme.triage.optical.handle({ command: 'reset-han' });
    expect(r.ok).toBe(true);
    // §3.6.1.4.1 state in RAM, at once
    expect(s.esme.node.joined).toBe(false);
    expect(s.esme.node.network).toBeNull();
    expect(s.esme.node.shortAddress).toBe(0xffff);
    await s.run(1000); // device trace events reach the bus
    const ev = s.deviceEvents('reset-han')[0];
    expect(ev).toBeDefined();
    expect(ev?.changed).toEqual(['app.cbkeDone', 'meter.deviceLog', 'stack.linkKeys', 'stack.network']);
    expect(ev?.keptUnchanged).toBe(true);
    expect(ev?.removedLinkKeys).toEqual(['00124b0000bbbbbb', CH]);
    for (const k of (ev?.changed ?? []) as string[]) expect(RESET_HAN_ALLOWED_KEYS).toContain(k);

    const after = s.nvm.snapshot();
    // The CBKE key had replaced the install-code TC key (as CBKE does): both keys gone; the
    // install code itself is configuration (the preconfigured key of the next join). Kept:
    // counters, registers, security log.
    expect(after['stack.linkKeys']).toEqual({});
    expect(after['stack.nwkFrameCounter']).toEqual(before['stack.nwkFrameCounter']);
    expect(after['meter.deviceLog']).toEqual([]);
    expect(after['stack.network']).toBeUndefined();
    // CBKE of the old association aborted: a fresh application, no exchange left
    expect(s.esme.app?.cbke.state(CH)).toBe('idle');
    // tamper: both attempts logged with the alert, queued (no CH tunnel here to send them through)
    const log = s.esme.node.securityLog.entries().filter((e) => e.event === 'reset-han-attempt');
    expect(log.map((e) => e.detail?.locked)).toEqual([true, false]);
    expect(s.esme.node.securityLog.pendingAlerts().filter((a) => a.code === 0x8f3f)).toHaveLength(2);
    // The join is re-enabled: it joins again (any EPID) and logs the CH that admitted it.
    await s.run(40 * SECOND);
    expect(s.esme.node.joined).toBe(true);
    expect(s.esme.triage.deviceLog.ch).toBe(CH);
    expect(s.crashes()).toEqual([]);
  });

  it('power lost in the middle of the reset leaves the old state; a later reset gives the new one', async () => {
    const s = await setup();
    await s.run(20 * SECOND);
    unlock(s.esme);
    const strip = (o: Record<string, unknown>) => {
      const { 'stack.securityLog': _l, 'stack.alertQueue': _a, ...rest } = o;
      return rest;
    };
    const before = strip(s.nvm.snapshot());
    s.nvm.cutDuringReset = true;
    const r = s.esme.triage.optical.handle({ command: 'reset-han' });
    expect(r).toMatchObject({ ok: false, code: 'OPTICAL_RESET_FAILED' });
    expect(strip(s.nvm.snapshot())).toEqual(before);
    expect(s.esme.node.joined).toBe(true);
    expect(s.esme.node.securityLog.entries().map((e) => e.event)).toEqual(
      expect.arrayContaining(['reset-han-attempt', 'reset-han-failed']),
    );
    // the meter loses power; at power on the port is locked again
    s.esme.runtime.powerOff();
    s.esme.runtime.start();
    await s.run(10 * SECOND);
    expect(s.esme.triage.optical.handle({ command: 'reset-han' })).toMatchObject({ code: 'OPTICAL_LOCKED' });
    unlock(s.esme);
    expect(s.esme.triage.optical.handle({ command: 'reset-han' }).ok).toBe(true);
    expect(s.nvm.read('stack.network')).toBeUndefined();
  });

  it('no frame over the air reaches the optical commands', async () => {
    const s = await setup();
    await s.run(20 * SECOND);
    const net = s.nvm.read('stack.network');
    const words = ['unlock', 'reset-han', 'read-diagnostics', 'leave-facility', 'challenge'];
    const enc = new TextEncoder();
    let tsn = 0;
    const sends: Promise<unknown>[] = [];
    for (const clusterId of [0x0000, 0x0702, 0x0705, 0x0704, 0x0800, 0xfc00, 0xff00]) {
      for (const w of words) {
        const zcl = Uint8Array.from([0x01, tsn++ & 0xff, 0x00, ...enc.encode(w)]);
        sends.push(s.ch.sendZcl({ eui64: ESME }, { clusterId, zcl, security: 'aps-link' }));
        sends.push(s.ch.sendZcl({ eui64: ESME }, { clusterId, zcl, security: 'none' }));
        sends.push(s.ch.sendInterPan({ eui64: ESME, panId: 0x1a62 }, { clusterId, zcl, security: 'none' }));
        sends.push(s.ch.sendInterPan('broadcast', { clusterId, zcl, security: 'none' }));
      }
    }
    await s.run(2 * MINUTE);
    await Promise.all(sends);
    expect(s.esme.triage.optical.unlocked).toBe(false);
    expect(s.deviceEvents('reset-han')).toEqual([]);
    expect(s.deviceEvents('optical')).toEqual([]);
    expect(s.nvm.read('stack.network')).toEqual(net);
    expect(s.esme.node.securityLog.entries().some((e) => e.event.startsWith('reset-han'))).toBe(false);
  });
});
