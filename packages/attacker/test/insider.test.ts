/**
 * An insider (joined with a logged install code, so holding the network key) against an ESME
 * and its CH on the real stack: each forgery is refused with its typed reason, written to the
 * Security Log with an Unauthorised Communication Access alert, and changes nothing - the ESME
 * stays joined, the CH keeps it as a child, the ESME's CBKE link key with the CH is untouched.
 * The same frames from a device that did not join cannot even be built.
 */
import { MINUTE, SECOND } from '@gbhan/clock';
import { CommsHub } from '@gbhan/comms-hub';
import { Esme } from '@gbhan/meter';
import { GbAlertCode, MemoryNvStore } from '@gbhan/stack';
import { realBus } from '@gbhan/testing';
import { appendInstallCodeCrc, toHex } from '@gbhan/zigbee';
import { describe, expect, it } from 'vitest';
import { Attacker, INSIDER_ATTACKS, type InsiderAttack } from '../src/index.js';

const CH = '00124b0000c0ffee';
const ESME = '00124b0000e5e5e5';
const INSIDER = '00124b0000bad1ed';
const channels = [{ page: 0, channel: 11 }];
const code = (fill: number) => toHex(appendInstallCodeCrc(new Uint8Array(16).fill(fill)));

/** Where each forgery must be refused, and why. */
const REFUSED: Record<InsiderAttack, { at: string; reason: string }> = {
  'nwk-leave': { at: ESME, reason: 'nwk-leave-not-from-parent' },
  'mgmt-leave': { at: ESME, reason: 'mgmt-leave-not-authorised' },
  'spoofed-leave': { at: CH, reason: 'nwk-command-source-mismatch' },
  'transport-key': { at: ESME, reason: 'aps-network-key-security' },
};

async function home(seed: number) {
  const { bus, radio, ev, crashes } = realBus(seed);
  const hub = new CommsHub({
    radio: await radio(CH, 0),
    nvm: new MemoryNvStore(),
    seed,
    config: {
      channels,
      deviceLog: [
        { eui64: ESME, deviceType: 'ESME', installCode: code(1) },
        { eui64: INSIDER, deviceType: 'PPMID', installCode: code(2) },
      ],
    },
  });
  const esme = new Esme({
    radio: await radio(ESME, 3),
    nvm: new MemoryNvStore(),
    seed,
    config: { chEui64: CH, installCode: code(1), channels },
  });
  const insider = new Attacker({
    radio: await radio(INSIDER, 2),
    nvm: new MemoryNvStore(),
    seed,
    config: { targetEui64: CH, installCode: code(2), channels },
  });
  return { bus, hub, esme, insider, ev, crashes };
}

describe('an insider holding the network key', () => {
  it.each(INSIDER_ATTACKS)('%s is refused, logged and alerted, and changes nothing', async (attack) => {
    const { bus, hub, esme, insider, ev, crashes } = await home(7);
    insider.node.clock.setTimerAt(2 * MINUTE, () => void insider.join());
    insider.node.clock.setTimerAt(3 * MINUTE, () => insider.insider(ESME, [attack]));
    await bus.runUntil(2 * MINUTE + 30 * SECOND);
    // The ESME joined, ran CBKE with the CH; the insider joined with its logged install code.
    expect(ev(ESME, 'cbke-established').map((e) => e.peer)).toContain(CH);
    expect(ev(INSIDER, 'attacker-joined')).toMatchObject([{ result: 'joined' }]);
    const cbkeKey = esme.node.linkKey(CH);
    expect(cbkeKey).not.toBeNull();
    await bus.runUntil(4 * MINUTE);

    expect(ev(INSIDER, 'attacker-insider')).toMatchObject([{ attack, target: ESME }]);
    const { at, reason } = REFUSED[attack];
    expect(ev(at, 'frame-dropped').filter((e) => e.reason === reason)).toHaveLength(1);
    const device = at === CH ? hub.node : esme.node;
    const entry = device.securityLog.entries().find((e) => e.event === reason);
    expect(entry?.alertCode).toBe(GbAlertCode.unauthorisedCommunicationAccess);
    // Nothing changed: still joined, still the CH's child, the same CBKE key, no leave anywhere.
    expect(esme.node.joined).toBe(true);
    expect(hub.node.children().map((c) => c.eui64)).toContain(ESME);
    expect(esme.node.linkKey(CH)).toEqual(cbkeKey);
    expect(ev(ESME, 'leave-requested')).toEqual([]);
    expect(ev(CH, 'child-left')).toEqual([]);
    expect(ev(ESME, 'link-key').filter((e) => e.origin === 'partner')).toEqual([]);
    expect(crashes()).toEqual([]);
    bus.close();
  });

  it('the CH still removes a device from its Device Log with a Mgmt_Leave_req under its link key', async () => {
    const { bus, hub, esme, ev } = await home(8);
    await bus.runUntil(2 * MINUTE);
    expect(esme.node.joined).toBe(true);
    hub.node.clock.setTimerAt(2 * MINUTE + SECOND, () => void hub.node.removeChild(ESME));
    await bus.runUntil(3 * MINUTE);
    expect(ev(ESME, 'leave-requested')).toMatchObject([{ by: CH }]);
    expect(esme.node.joined).toBe(false);
    expect(ev(ESME, 'frame-dropped').filter((e) => String(e.reason).includes('leave'))).toEqual([]);
    bus.close();
  });

  it('an attacker that did not join has no network to forge in', async () => {
    const { bus, insider, ev } = await home(9);
    insider.node.clock.setTimerAt(MINUTE, () => insider.insider(ESME));
    await bus.runUntil(2 * MINUTE);
    expect(ev(INSIDER, 'attacker-insider')).toEqual([]);
    expect(ev(INSIDER, 'attacker-no-target').map((e) => e.reason)).toEqual(Array(4).fill('not-joined'));
    bus.close();
  });
});
