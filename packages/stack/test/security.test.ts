import { BusRadio, InProcessTransport, Prng } from '@gbhan/radio-bus';
import {
  decodeMacFrame,
  decodeNwkFrame,
  encodeApsFrame,
  encodeMacFrame,
  isInterPanFrame,
  type MacFrame,
  secureNwkFrame,
} from '@gbhan/zigbee';
import { describe, expect, it } from 'vitest';
import { PersistedCounter } from '../src/counters.js';
import { MemoryNvStore } from '../src/nvm.js';
import { GbAlertCode } from '../src/security-log.js';
import {
  CH,
  during,
  ESME,
  GSME,
  installCodeFor,
  joinedNet,
  PPMID,
  PRICE_GET_CURRENT,
  ROGUE,
  settle,
} from './harness.js';

const zcl = { clusterId: 0x0700, zcl: PRICE_GET_CURRENT, security: 'nwk' as const };

async function attacker(net: Awaited<ReturnType<typeof joinedNet>>['net']) {
  return BusRadio.connect(new InProcessTransport(net.bus), {
    eui64: '00124b0000a77ac4',
    band: '2.4GHz',
    page: 0,
    channel: 11,
    position: { x: 1, y: 1 },
  });
}

/** A secured NWK data frame ESME sent to CH, as on air. */
function esmeToChFrame(frames: { psdu: Uint8Array }[]): Extract<MacFrame, { frameType: 'data' }> {
  for (const f of frames) {
    const m = decodeMacFrame(f.psdu);
    if (m.frameType !== 'data' || m.destination !== 0 || isInterPanFrame(m.payload)) continue;
    const n = decodeNwkFrame(m.payload);
    if (n.security && n.aux.sourceAddress === ESME && n.frameType === 'data') return m;
  }
  throw new Error('no ESME -> CH frame');
}

describe('admission and security', () => {
  it('a device the admission policy refuses is refused, traced and gets no key', async () => {
    const { net, ch } = await joinedNet(4);
    const rogue = await net.add(ROGUE, 'end-device', { x: 2 });
    await during(net, rogue.powerOn(), 1_000);
    expect(await during(net, rogue.join(), 10_000_000)).toBe('refused');
    expect(rogue.joined).toBe(false);
    expect(rogue.network).toBeNull();
    expect(net.deviceEvents(CH, 'join-refused').map((e) => e.eui64)).toEqual([ROGUE]);
    expect(net.deviceEvents(CH, 'transport-key').filter((e) => e.to === ROGUE)).toEqual([]);
    expect(ch.children().map((c) => c.eui64)).not.toContain(ROGUE);
    expect(
      ch.securityLog
        .entries()
        .some(
          (e) => e.event === 'join-refused' && e.alertCode === GbAlertCode.unauthorisedCommunicationAccess,
        ),
    ).toBe(true);
    expect(rogue.securityLog.pendingAlerts().map((a) => a.code)).toEqual([GbAlertCode.joinFailed]);
  });

  it('a device with the wrong install code cannot read Transport Key and stays out', async () => {
    const { net } = await joinedNet(5);
    net.deviceLog.set(PPMID, installCodeFor(ROGUE)); // the log holds another code
    const ppmid = await net.add(PPMID, 'end-device', { x: 2, transportKeyTimeoutUs: 3_000_000 });
    await during(net, ppmid.powerOn(), 1_000);
    expect(await during(net, ppmid.join(), 10_000_000)).toBe('no-key');
    expect(ppmid.joined).toBe(false);
    expect(ppmid.network).toBeNull();
    expect(net.deviceEvents(PPMID, 'frame-dropped').map((e) => e.reason)).toContain('aps-bad-mic');
    expect(net.deviceEvents(PPMID, 'join-failed').map((e) => e.reason)).toEqual(['transport-key-timeout']);
    expect(net.deviceEvents(PPMID, 'nwk-state').at(-1)?.state).toBe('not-joined');
    expect((await ppmid.sendZcl({ eui64: CH }, zcl)).status).toBe('not-joined');
  });

  it('a replayed NWK frame and a frame under a wrong key are dropped with a traced reason', async () => {
    const { net, ch, esme } = await joinedNet(6);
    const got: string[] = [];
    ch.onZcl((m) => void got.push(m.from.eui64));
    await during(net, esme.sendZcl({ eui64: CH }, zcl), 2_000_000);
    await during(net, esme.sendZcl({ eui64: CH }, zcl), 2_000_000);
    expect(got).toEqual([ESME, ESME]);
    const air = await attacker(net);
    // Replay: the same NWK frame (same counter) in a fresh MAC frame (new sequence number).
    const original = esmeToChFrame(net.frames);
    void air.transmit(encodeMacFrame({ ...original, sequenceNumber: (original.sequenceNumber + 77) & 0xff }));
    await settle();
    await net.run(net.bus.time + 100_000);
    // Wrong key: a well-formed frame from ESME's address with a fresh counter under another key.
    const nwk = secureNwkFrame(
      {
        frameType: 'data',
        security: false,
        protocolVersion: 2,
        discoverRoute: 0,
        endDeviceInitiator: false,
        destination: 0,
        source: esme.shortAddress,
        radius: 5,
        sequenceNumber: 200,
        sourceIeee: ESME,
        payload: encodeApsFrame({
          frameType: 'data',
          deliveryMode: 'unicast',
          ackRequest: false,
          counter: 9,
          destinationEndpoint: 1,
          clusterId: 0x0700,
          profileId: 0x0109,
          sourceEndpoint: 1,
          security: false,
          payload: PRICE_GET_CURRENT,
        }),
      },
      {
        key: new Uint8Array(16).fill(0x5a),
        frameCounter: 0x7fffffff,
        sourceEui64: ESME,
        keySequenceNumber: 0,
      },
    );
    void air.transmit(encodeMacFrame({ ...original, sequenceNumber: 3, payload: nwk }));
    await settle();
    await net.run(net.bus.time + 100_000);
    const reasons = net.deviceEvents(CH, 'frame-dropped').map((e) => e.reason);
    expect(reasons).toContain('nwk-replay');
    expect(reasons).toContain('nwk-bad-mic');
    expect(got).toEqual([ESME, ESME]);
    expect(ch.securityLog.entries().map((e) => e.event)).toEqual(
      expect.arrayContaining(['nwk-replay', 'nwk-authentication-failed']),
    );
    // ESME's real frames still get through (the bad frame did not move its counter).
    expect((await during(net, esme.sendZcl({ eui64: CH }, zcl), 2_000_000)).status).toBe('sent');
    await net.run(net.bus.time + 10_000);
    expect(got).toEqual([ESME, ESME, ESME]);
  });

  it('garbage PSDUs never crash a node', async () => {
    const { net, ch, esme, gsme } = await joinedNet(7);
    const air = await attacker(net);
    const prng = new Prng('garbage');
    const valid = net.frames.map((f) => f.psdu);
    for (let i = 0; i < 300; i++) {
      let psdu: Uint8Array;
      if (i % 3 === 0) {
        psdu = new Uint8Array(1 + Math.floor(prng.next() * 126));
        for (let j = 0; j < psdu.length; j++) psdu[j] = prng.nextUint32() & 0xff;
      } else {
        // A valid frame with its MAC payload mutated, re-encoded so the FCS is right.
        const base = decodeMacFrame(valid[Math.floor(prng.next() * valid.length)]!);
        if (base.frameType !== 'data' || base.payload.length === 0) continue;
        const payload = base.payload.slice(0, Math.max(1, Math.floor(prng.next() * base.payload.length) + 1));
        const flips = 1 + Math.floor(prng.next() * 3);
        for (let k = 0; k < flips; k++)
          payload[Math.floor(prng.next() * payload.length)]! ^= 1 << Math.floor(prng.next() * 8);
        psdu = encodeMacFrame({ ...base, sequenceNumber: i & 0xff, payload });
      }
      void air.transmit(psdu);
      await settle();
      await net.run(net.bus.time + 5_000);
    }
    const drops = net.deviceEvents(undefined, 'frame-dropped');
    expect(drops.length).toBeGreaterThan(100);
    expect(drops.filter((d) => d.reason === 'unexpected-error')).toEqual([]);
    // Everyone still works.
    const got: string[] = [];
    ch.onZcl((m) => void got.push(m.from.eui64));
    expect((await during(net, esme.sendZcl({ eui64: CH }, zcl), 2_000_000)).status).toBe('sent');
    expect((await during(net, gsme.sendZcl({ eui64: CH }, zcl), 3_000_000)).status).toBe('sent');
    await net.run(net.bus.time + 10_000);
    expect(got).toEqual([ESME, GSME]);
  });
});

describe('frame counters', () => {
  it('are committed a block ahead before use; a failed commit uses no counter', () => {
    const nvm = new MemoryNvStore();
    const c = new PersistedCounter(nvm, 'fc', 4);
    expect([c.take(), c.take(), c.take(), c.take()]).toEqual([0, 1, 2, 3]);
    expect(nvm.read('fc')).toBe(4);
    nvm.failNextCommit = true;
    expect(() => c.take()).toThrow();
    expect(c.take()).toBe(4);
    expect(nvm.read('fc')).toBe(8);
    // After a crash, resume at the persisted limit: above everything used.
    expect(new PersistedCounter(nvm, 'fc', 4).take()).toBe(8);
    void GSME;
  });
});
