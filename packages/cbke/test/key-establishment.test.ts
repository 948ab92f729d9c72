import type { KeyEstablishmentMessage } from '@gbhan/zigbee';
import { encodeKeyEstablishment, TerminateStatus } from '@gbhan/zigbee';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bytesToHex } from '../src/bytes.js';
import { DEFAULT_UNIX_EPOCH_SECONDS } from '../src/key-establishment.js';
import { KeyEstablishmentInitiator } from '../src/key-establishment-initiator.js';
import { SUITES } from '../src/suites.js';
import { device, EUI_U, EUI_V, EUI_W, type Link, makePair, seededRandom, testCa } from './helpers.js';

const SECOND = 1_000_000;
const last = <T>(a: T[]) => a[a.length - 1];

describe.each([1, 2] as const)('key establishment, suite %i', (suite) => {
  it('completes: both sides get the same link key, exported once per side', () => {
    const p = makePair(suite);
    p.initiator.start(EUI_V, p.responder.keyEstablishmentSuite);
    p.clock.runAll();
    const [u] = p.results.U;
    const [v] = p.results.V;
    expect(u?.ok && v?.ok).toBe(true);
    if (!u?.ok || !v?.ok) return;
    expect(bytesToHex(u.linkKey)).toBe(bytesToHex(v.linkKey));
    expect(u.suite).toBe(suite);
    expect(bytesToHex(u.peerEui64)).toBe(bytesToHex(EUI_V));
    expect(bytesToHex(v.peerEui64)).toBe(bytesToHex(EUI_U));
    expect(p.log.entries.map((e) => e.role).sort()).toEqual(['initiator', 'responder']);
    // V establishes when it sends MACV, U one hop later when MACV arrives
    const at = Object.fromEntries(p.log.entries.map((e) => [e.role, e.timeUs]));
    expect(at).toEqual({ responder: p.clock.now() - 5_000, initiator: p.clock.now() });
    expect(p.log.wiresharkKeyLines()).toHaveLength(1);
    expect(p.log.wiresharkKeyLines()[0]).toMatch(/^"([0-9A-F]{2}:){15}[0-9A-F]{2}","Normal","CBKE suite/);
    expect(p.sent.U.map((m) => m.command)).toEqual([
      'InitiateKeyEstablishment',
      'EphemeralData',
      'ConfirmKeyData',
    ]);
    expect(p.sent.V.map((m) => m.command)).toEqual([
      'InitiateKeyEstablishment',
      'EphemeralData',
      'ConfirmKeyData',
    ]);
    const eph = p.sent.U[1]!;
    expect(eph.command === 'EphemeralData' && eph.ephemeralData.length).toBe(SUITES[suite].pointLength);
    // as fast as computed: only the link latency (6 hops x 5 ms)
    expect(p.clock.now()).toBe(6 * 5_000);
    expect(p.initiator.state).toBe('idle');
    expect(p.responder.state).toBe('idle');
  });

  it('honours the advertised generate times on the virtual clock', () => {
    const timing = { timing: 'advertised' as const, ephemeralDataGenerateTime: 4, confirmKeyGenerateTime: 7 };
    const p = makePair(suite, timing, { ...timing, ephemeralDataGenerateTime: 3, confirmKeyGenerateTime: 2 });
    p.initiator.start(EUI_V);
    p.clock.runAll();
    expect(p.results.U[0]?.ok).toBe(true);
    // U: +4 s before Ephemeral Data, +7 s before Confirm; V: +3 s and +2 s.
    expect(p.clock.now()).toBe((4 + 3 + 7 + 2) * SECOND + 6 * 5_000);
  });

  it('default advertised times: 10 s + 10 s ephemeral, 15 s + 15 s confirm, no premature timeout', () => {
    const p = makePair(suite, { timing: 'advertised' }, { timing: 'advertised' });
    p.initiator.start(EUI_V);
    p.clock.runAll();
    expect(p.results.U[0]?.ok).toBe(true);
    expect(p.results.V[0]?.ok).toBe(true);
    expect(p.resultTimes.U).toEqual([(10 + 10 + 15 + 15) * SECOND + 6 * 5_000]);
  });

  it('a man in the middle swapping the ephemeral data is caught (BadKeyConfirm)', () => {
    const attacker = SUITES[suite].curve;
    const fake = attacker.compress(attacker.multiplyBase(12345n)!);
    const p = makePair(
      suite,
      {},
      {},
      {
        tap: (m, from) => (m.command === 'EphemeralData' && from === 'U' ? { ...m, ephemeralData: fake } : m),
      },
    );
    p.initiator.start(EUI_V);
    p.clock.runAll();
    const v = p.results.V[0];
    const u = p.results.U[0];
    expect(v?.ok === false && v.reason).toBe('CBKE_BAD_KEY_CONFIRM');
    expect(v?.ok === false && v.terminateStatus).toBe(TerminateStatus.BadKeyConfirm);
    expect(u?.ok === false && u.terminateStatus).toBe(TerminateStatus.BadKeyConfirm);
    expect(u?.ok === false && u.terminatedBy).toBe('peer');
    expect(p.log.entries).toHaveLength(0);
  });
});

describe('key establishment failure paths (suite 2)', () => {
  const status = (r: unknown) => (r as { terminateStatus?: number } | undefined)?.terminateStatus;

  it('tampered MACV: the initiator terminates with BadKeyConfirm', () => {
    const p = makePair(
      2,
      {},
      {},
      {
        tap: (m, from) =>
          m.command === 'ConfirmKeyData' && from === 'V'
            ? { ...m, secureMessageAuthenticationCode: new Uint8Array(16) }
            : m,
      },
    );
    p.initiator.start(EUI_V);
    p.clock.runAll();
    expect(p.results.U[0]).toMatchObject({
      ok: false,
      reason: 'CBKE_BAD_KEY_CONFIRM',
      terminatedBy: 'local',
    });
    expect(p.sent.U.at(-1)).toMatchObject({ command: 'TerminateKeyEstablishment', statusCode: 2 });
    // the responder had already finished: one key exported, by the responder only
    expect(p.log.entries.map((e) => e.role)).toEqual(['responder']);
  });

  it('unknown issuer', () => {
    const other = testCa(2, Uint8Array.of(9, 9, 9, 9, 9, 9, 9, 9));
    const p = makePair(2, {}, { trustedCAs: [other.trusted] });
    p.initiator.start(EUI_V);
    p.clock.runAll();
    expect(status(p.results.V[0])).toBe(TerminateStatus.UnknownIssuer);
    expect(p.results.U[0]).toMatchObject({
      ok: false,
      reason: 'CBKE_TERMINATED_BY_PEER',
      terminateStatus: 1,
    });
  });

  it('a certificate for another EUI64 is refused (InvalidCertificate)', () => {
    const d = device(2, { subject: EUI_W });
    const p = makePair(2, { credentials: { 2: { certificate: d.certificate, privateKey: d.privateKey } } });
    p.initiator.start(EUI_V);
    p.clock.runAll();
    expect(p.results.V[0]).toMatchObject({
      ok: false,
      reason: 'CBKE_INVALID_CERTIFICATE',
      terminateStatus: 6,
    });
    expect((p.results.V[0] as { message: string }).message).toMatch(/subject/);
  });

  it('an expired certificate is refused, a valid one accepted at the same time', () => {
    const from = DEFAULT_UNIX_EPOCH_SECONDS - 3600;
    const d = device(2, { subject: EUI_U, validFrom: from, validTo: 3600 + 60 });
    const mk = () =>
      makePair(2, { credentials: { 2: { certificate: d.certificate, privateKey: d.privateKey } } });
    const ok = mk();
    ok.initiator.start(EUI_V);
    ok.clock.runAll();
    expect(ok.results.V[0]?.ok).toBe(true);
    const late = mk();
    late.clock.advance(61 * SECOND);
    late.initiator.start(EUI_V);
    late.clock.runAll();
    expect(late.results.V[0]).toMatchObject({
      ok: false,
      reason: 'CBKE_INVALID_CERTIFICATE',
      terminateStatus: 6,
    });
    expect((late.results.V[0] as { message: string }).message).toMatch(/not valid/);
  });

  it('a certificate not yet valid, or without key-agreement usage, is refused', () => {
    const future = device(2, { subject: EUI_U, validFrom: DEFAULT_UNIX_EPOCH_SECONDS + 100 });
    const signOnly = device(2, { subject: EUI_U, keyUsage: 0x80 });
    for (const d of [future, signOnly]) {
      const p = makePair(2, { credentials: { 2: { certificate: d.certificate, privateKey: d.privateKey } } });
      p.initiator.start(EUI_V);
      p.clock.runAll();
      expect(status(p.results.V[0])).toBe(TerminateStatus.InvalidCertificate);
    }
  });

  it('the initiator checks the responder certificate too', () => {
    const d = device(2, { subject: EUI_W });
    const p = makePair(
      2,
      {},
      { credentials: { 2: { certificate: d.certificate, privateKey: d.privateKey } } },
    );
    p.initiator.start(EUI_V);
    p.clock.runAll();
    expect(p.results.U[0]).toMatchObject({ reason: 'CBKE_INVALID_CERTIFICATE', terminatedBy: 'local' });
    expect(p.results.V[0]).toMatchObject({
      reason: 'CBKE_TERMINATED_BY_PEER',
      terminateStatus: 6,
      waitTime: 30,
    });
  });

  it('unsupported suite, then the initiator honours the wait time as back-off', () => {
    const d1 = device(1, { subject: EUI_V }, testCa(1));
    const p = makePair(
      2,
      {},
      {
        credentials: { 1: { certificate: d1.certificate, privateKey: d1.privateKey } },
        terminateWaitTime: 20,
      },
    );
    expect(p.responder.keyEstablishmentSuite).toBe(0x0001);
    p.initiator.start(EUI_V); // no attribute read: assume the peer supports ours
    p.clock.runAll();
    expect(p.results.V[0]).toMatchObject({ reason: 'CBKE_UNSUPPORTED_SUITE', terminateStatus: 5 });
    expect(p.results.U[0]).toMatchObject({ terminateStatus: 5, waitTime: 20 });
    p.clock.advance(10 * SECOND);
    p.initiator.start(EUI_V);
    expect(p.results.U[1]).toMatchObject({ ok: false, reason: 'CBKE_BACKOFF', waitTime: 10 });
    p.clock.advance(10 * SECOND);
    p.initiator.start(EUI_V);
    expect(p.initiator.state).toBe('awaitInitiateResponse');
  });

  it('suite choice follows the KeyEstablishmentSuite attribute', () => {
    const d1u = device(1, { subject: EUI_U }, testCa(1));
    const d1v = device(1, { subject: EUI_V }, testCa(1));
    const d2u = device(2, { subject: EUI_U });
    const trust = { trustedCAs: [testCa(1).trusted, testCa(2).trusted] };
    const p = makePair(
      2,
      {
        ...trust,
        credentials: {
          1: { certificate: d1u.certificate, privateKey: d1u.privateKey },
          2: { certificate: d2u.certificate, privateKey: d2u.privateKey },
        },
      },
      { ...trust, credentials: { 1: { certificate: d1v.certificate, privateKey: d1v.privateKey } } },
    );
    expect(p.initiator.keyEstablishmentSuite).toBe(0x0003);
    p.initiator.start(EUI_V, p.responder.keyEstablishmentSuite);
    p.clock.runAll();
    expect(p.results.U[0]).toMatchObject({ ok: true, suite: 1 });
    const q = makePair(2);
    q.initiator.start(EUI_V, 0x0004);
    expect(q.results.U[0]).toMatchObject({ ok: false, reason: 'CBKE_NO_COMMON_SUITE' });
    expect(q.sent.U).toHaveLength(0);
  });

  it('bad messages: wrong lengths, invalid points, unexpected commands', () => {
    const curve = SUITES[2].curve;
    const order2 = new Uint8Array(37);
    order2[0] = 0x02; // (0, 1): on the curve, not in the subgroup
    const offCurve = (() => {
      for (let i = 1; ; i++) {
        const enc = new Uint8Array(37);
        enc[0] = 0x02;
        enc[36] = i;
        try {
          curve.decodePoint(enc);
        } catch {
          return enc;
        }
      }
    })();
    const cases: { name: string; tap: NonNullable<Link['tap']> }[] = [
      {
        name: 'short certificate',
        tap: (m) =>
          m.command === 'InitiateKeyEstablishment' ? { ...m, identity: m.identity.subarray(1) } : m,
      },
      {
        name: 'short ephemeral data',
        tap: (m) =>
          m.command === 'EphemeralData' ? { ...m, ephemeralData: m.ephemeralData.subarray(1) } : m,
      },
      {
        name: 'not in subgroup',
        tap: (m) => (m.command === 'EphemeralData' ? { ...m, ephemeralData: order2 } : m),
      },
      {
        name: 'not on curve',
        tap: (m) => (m.command === 'EphemeralData' ? { ...m, ephemeralData: offCurve } : m),
      },
      {
        name: 'short MAC',
        tap: (m) =>
          m.command === 'ConfirmKeyData' ? { ...m, secureMessageAuthenticationCode: new Uint8Array(15) } : m,
      },
      {
        name: 'confirm instead of ephemeral data',
        tap: (m) =>
          m.command === 'EphemeralData'
            ? {
                command: 'ConfirmKeyData',
                direction: 'request',
                secureMessageAuthenticationCode: new Uint8Array(16),
              }
            : m,
      },
      {
        name: 'wrong direction',
        tap: (m) => (m.command === 'EphemeralData' ? { ...m, direction: 'response' } : m),
      },
    ];
    for (const c of cases) {
      const p = makePair(2, {}, {}, { tap: (m, from) => (from === 'U' ? c.tap(m, from) : m) });
      p.initiator.start(EUI_V);
      p.clock.runAll();
      expect(p.results.V[0], c.name).toMatchObject({
        ok: false,
        reason: 'CBKE_BAD_MESSAGE',
        terminateStatus: 3,
      });
      expect(p.results.U[0], c.name).toMatchObject({ ok: false, terminateStatus: 3, terminatedBy: 'peer' });
    }
  });

  it('bad messages to the initiator are answered with Terminate BadMessage', () => {
    const p = makePair(
      2,
      {},
      {},
      {
        tap: (m, from) =>
          from === 'V' && m.command === 'EphemeralData' ? { ...m, ephemeralData: new Uint8Array(3) } : m,
      },
    );
    p.initiator.start(EUI_V);
    p.clock.runAll();
    expect(p.results.U[0]).toMatchObject({
      reason: 'CBKE_BAD_MESSAGE',
      terminateStatus: 3,
      terminatedBy: 'local',
    });
    expect(p.results.V[0]).toMatchObject({ reason: 'CBKE_TERMINATED_BY_PEER', terminateStatus: 3 });
  });

  it('a busy responder answers a second device with NoResources and finishes the first', () => {
    const p = makePair(2);
    p.initiator.start(EUI_V);
    p.clock.advance(5_000); // the Initiate Request has arrived
    const dw = device(2, { subject: EUI_W });
    p.responder.receive(
      {
        command: 'InitiateKeyEstablishment',
        direction: 'request',
        suite: 2,
        ephemeralDataGenerateTime: 10,
        confirmKeyGenerateTime: 15,
        identity: dw.certificate,
      },
      EUI_W,
    );
    expect(p.others).toHaveLength(1);
    expect(p.others[0]!.msg).toMatchObject({
      command: 'TerminateKeyEstablishment',
      statusCode: 4,
      waitTime: 30,
    });
    expect(bytesToHex(p.others[0]!.to)).toBe(bytesToHex(EUI_W));
    p.clock.runAll();
    expect(p.results.U[0]?.ok).toBe(true);
    expect(p.results.V[0]?.ok).toBe(true);
  });

  it('a stray message with no exchange gets BadMessage; the initiator ignores strangers', () => {
    const p = makePair(2);
    p.responder.receive(
      { command: 'EphemeralData', direction: 'request', ephemeralData: new Uint8Array(37) },
      EUI_W,
    );
    expect(p.others[0]?.msg).toMatchObject({ command: 'TerminateKeyEstablishment', statusCode: 3 });
    p.initiator.start(EUI_V);
    p.initiator.receive(
      { command: 'TerminateKeyEstablishment', direction: 'response', statusCode: 4, waitTime: 9, suite: 2 },
      EUI_W,
    );
    expect(p.initiator.state).toBe('awaitInitiateResponse');
    p.clock.runAll();
    expect(p.results.U[0]?.ok).toBe(true);
  });

  it('timeouts: no answer to the Initiate; the initiator goes silent', () => {
    const p = makePair(2, {}, {}, { tap: (m, from) => (from === 'V' ? null : m) });
    p.initiator.start(EUI_V);
    p.clock.runAll();
    expect(p.results.U[0]).toMatchObject({ ok: false, reason: 'CBKE_TIMEOUT' });
    expect(p.resultTimes.U).toEqual([10 * SECOND]);
    // V waited the initiator's advertised ephemeral generate time (7 s) plus the 1 s margin
    const q = makePair(
      2,
      { ephemeralDataGenerateTime: 7 },
      {},
      { tap: (m, from) => (from === 'U' && m.command === 'EphemeralData' ? null : m) },
    );
    q.initiator.start(EUI_V);
    q.clock.runAll();
    expect(q.results.V[0]).toMatchObject({ ok: false, reason: 'CBKE_TIMEOUT' });
    expect(q.results.U[0]).toMatchObject({ ok: false, reason: 'CBKE_TIMEOUT' });
    expect(q.resultTimes.V).toEqual([5_000 + 8 * SECOND]);
    // U sent its Ephemeral Data on receiving the response (10 ms) and waited V's 10 s + 1 s
    expect(q.resultTimes.U).toEqual([10_000 + 11 * SECOND]);
  });

  it('start while busy throws a typed error; abort reports a result', () => {
    const p = makePair(2);
    p.initiator.start(EUI_V);
    expect(() => p.initiator.start(EUI_V)).toThrow(expect.objectContaining({ code: 'CBKE_STATE' }));
    p.initiator.abort();
    expect(p.results.U[0]).toMatchObject({ ok: false, reason: 'CBKE_ABORTED' });
  });

  it('a device without credentials advertises no suite and cannot start', () => {
    const i = new KeyEstablishmentInitiator({
      clock: makePair(2).clock,
      ownEui64: EUI_U,
      credentials: {},
      trustedCAs: [],
      random: seededRandom(1),
      send: () => {
        throw new Error('must not send');
      },
    });
    expect(i.keyEstablishmentSuite).toBe(0);
    i.start(EUI_V);
    expect(i.lastResult).toMatchObject({ ok: false, reason: 'CBKE_NO_COMMON_SUITE' });
  });

  it('a certificate whose reconstruction point is not on the curve is refused (InvalidCertificate)', () => {
    const d = device(2, { subject: EUI_U });
    const curve = SUITES[2].curve;
    let bad: Uint8Array | undefined;
    for (let i = 0; i < 256 && !bad; i++) {
      const c = d.certificate.slice();
      c[73] = i;
      try {
        curve.decodePoint(c.subarray(37));
      } catch {
        bad = c;
      }
    }
    const p = makePair(2, { credentials: { 2: { certificate: bad!, privateKey: d.privateKey } } });
    p.initiator.start(EUI_V);
    p.clock.runAll();
    expect(p.results.V[0]).toMatchObject({ reason: 'CBKE_INVALID_CERTIFICATE', terminateStatus: 6 });
    expect((p.results.V[0] as { message: string }).message).toMatch(/reconstruction/);
  });

  it('accepts the certificate/privateKey shorthand and a supportedSuites restriction', () => {
    const du = device(2, { subject: EUI_U });
    const p = makePair(2, { credentials: undefined, certificate: du.certificate, privateKey: du.privateKey });
    expect(p.initiator.keyEstablishmentSuite).toBe(0x0002);
    p.initiator.start(EUI_V);
    p.clock.runAll();
    expect(p.results.U[0]?.ok).toBe(true);
    const q = makePair(2, { supportedSuites: [1] });
    expect(q.initiator.keyEstablishmentSuite).toBe(0);
  });

  it('fuzz: any message in any state is handled without throwing', () => {
    const direction = fc.constantFrom('request' as const, 'response' as const);
    const bytes = (max: number) => fc.uint8Array({ maxLength: max });
    const point = fc.uint8Array({ minLength: 37, maxLength: 37 }).map((b) => {
      b[0] = 2 | (b[0]! & 1);
      b[1]! &= 7;
      return b;
    });
    const message: fc.Arbitrary<KeyEstablishmentMessage> = fc.oneof(
      fc.record({
        command: fc.constant('InitiateKeyEstablishment' as const),
        direction,
        suite: fc.integer({ min: 0, max: 0xffff }),
        ephemeralDataGenerateTime: fc.integer({ min: 0, max: 255 }),
        confirmKeyGenerateTime: fc.integer({ min: 0, max: 255 }),
        identity: fc.oneof(bytes(80), fc.uint8Array({ minLength: 74, maxLength: 74 })),
      }),
      fc.record({
        command: fc.constant('EphemeralData' as const),
        direction,
        ephemeralData: fc.oneof(bytes(40), point),
      }),
      fc.record({
        command: fc.constant('ConfirmKeyData' as const),
        direction,
        secureMessageAuthenticationCode: bytes(20),
      }),
      fc.record({
        command: fc.constant('TerminateKeyEstablishment' as const),
        direction,
        statusCode: fc.constantFrom(1, 2, 3, 4, 5, 6) as fc.Arbitrary<1 | 2 | 3 | 4 | 5 | 6>,
        waitTime: fc.integer({ min: 0, max: 255 }),
        suite: fc.integer({ min: 0, max: 0xffff }),
      }),
    );
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 6 }), message, fc.boolean(), (hops, junk, toResponder) => {
        const p = makePair(2);
        p.initiator.start(EUI_V);
        p.clock.advance(hops * 5_000);
        expect(() => {
          if (toResponder) p.responder.receive(junk, EUI_U);
          else p.initiator.receive(junk, EUI_V);
          p.clock.runAll();
        }).not.toThrow();
        for (const r of [...p.results.U, ...p.results.V]) expect(typeof r.ok).toBe('boolean');
        expect(p.initiator.state).toBe('idle');
        expect(p.responder.state).toBe('idle');
      }),
      { numRuns: 40 },
    );
  });
});

describe('garbage arguments (the API, not the decoder, hands these over)', () => {
  /** After whatever happened, both machines are idle and a fresh exchange completes. */
  function expectUsable(p: ReturnType<typeof makePair>) {
    expect(p.initiator.state).toBe('idle');
    expect(p.responder.state).toBe('idle');
    p.clock.advance(256 * SECOND); // longer than any wait time a Terminate can carry
    const before = { U: p.results.U.length, V: p.results.V.length };
    p.initiator.start(EUI_V);
    p.clock.runAll();
    expect(p.results.U.slice(before.U)).toMatchObject([{ ok: true }]);
    expect(p.results.V.slice(before.V)).toMatchObject([{ ok: true }]);
  }

  it.each([Number.NaN, -1, 256, 1.5, Number.POSITIVE_INFINITY, '10'])(
    'a generate time of %s in an Initiate Response: Terminate BadMessage, the initiator is free again',
    (bad) => {
      for (const field of ['ephemeralDataGenerateTime', 'confirmKeyGenerateTime'] as const) {
        let tamper = true;
        const p = makePair(
          2,
          {},
          {},
          {
            tap: (m, from) =>
              tamper && from === 'V' && m.command === 'InitiateKeyEstablishment'
                ? ({ ...m, [field]: bad } as unknown as KeyEstablishmentMessage)
                : m,
          },
        );
        p.initiator.start(EUI_V);
        expect(() => p.clock.runAll()).not.toThrow();
        expect(p.results.U, field).toMatchObject([
          { ok: false, reason: 'CBKE_BAD_MESSAGE', terminateStatus: 3, terminatedBy: 'local' },
        ]);
        expect(last(p.sent.U)).toMatchObject({
          command: 'TerminateKeyEstablishment',
          statusCode: 3,
          suite: 2,
        });
        expect(p.results.V).toMatchObject([{ ok: false, reason: 'CBKE_TERMINATED_BY_PEER' }]);
        tamper = false;
        expectUsable(p);
      }
    },
  );

  it('a bad generate time in an Initiate Request: the responder answers Terminate BadMessage', () => {
    let tamper = true;
    const p = makePair(
      2,
      {},
      {},
      {
        tap: (m, from) =>
          tamper && from === 'U' && m.command === 'InitiateKeyEstablishment'
            ? { ...m, confirmKeyGenerateTime: Number.NaN }
            : m,
      },
    );
    p.initiator.start(EUI_V);
    expect(() => p.clock.runAll()).not.toThrow();
    expect(p.results.V).toMatchObject([{ ok: false, reason: 'CBKE_BAD_MESSAGE', terminateStatus: 3 }]);
    expect(p.results.U).toMatchObject([{ ok: false, terminatedBy: 'peer', terminateStatus: 3 }]);
    tamper = false;
    expectUsable(p);
  });

  it('receive(null) and other non-messages end the exchange with Terminate BadMessage, on both sides', () => {
    for (const junk of [null, undefined, 7, 'x', {}, { command: 'EphemeralData', direction: 'response' }]) {
      const p = makePair(2);
      p.initiator.start(EUI_V);
      p.clock.advance(10_000); // the Initiate Response has arrived: both sides are mid-exchange
      expect(() => p.initiator.receive(junk as never, EUI_V)).not.toThrow();
      expect(p.results.U, String(junk)).toMatchObject([{ reason: 'CBKE_BAD_MESSAGE', terminateStatus: 3 }]);
      expect(last(p.sent.U)).toMatchObject({ command: 'TerminateKeyEstablishment', statusCode: 3 });
      p.clock.runAll();
      expectUsable(p);
      // the responder, idle and then mid-exchange
      expect(() => p.responder.receive(junk as never, EUI_U)).not.toThrow();
      expect(last(p.sent.V)).toMatchObject({ command: 'TerminateKeyEstablishment', statusCode: 3, suite: 2 });
      p.clock.runAll();
      p.clock.advance(256 * SECOND);
      p.initiator.start(EUI_V);
      p.clock.advance(5_000);
      expect(() => p.responder.receive(junk as never, EUI_U)).not.toThrow();
      expect(last(p.results.V)).toMatchObject({ reason: 'CBKE_BAD_MESSAGE', terminateStatus: 3 });
      p.clock.runAll();
      expectUsable(p);
    }
  });

  it('a sender that is not an EUI64 is a typed error and changes nothing', () => {
    const p = makePair(2);
    p.initiator.start(EUI_V);
    p.clock.advance(10_000);
    const eph: KeyEstablishmentMessage = {
      command: 'EphemeralData',
      direction: 'response',
      ephemeralData: new Uint8Array(37),
    };
    for (const from of [undefined, null, new Uint8Array(7), 'V', [1, 2, 3, 4, 5, 6, 7, 8]]) {
      const code = expect.objectContaining({ name: 'CbkeError', code: 'CBKE_BAD_ARGUMENT' });
      expect(() => p.initiator.receive(eph, from as never)).toThrow(code);
      expect(() => p.responder.receive(eph, from as never)).toThrow(code);
    }
    expect(p.results.U).toHaveLength(0);
    expect(p.results.V).toHaveLength(0);
    p.clock.runAll();
    expect(p.results.U).toMatchObject([{ ok: true }]);
    expect(p.results.V).toMatchObject([{ ok: true }]);
  });

  it('start and the constructor refuse bad arguments with a typed error', () => {
    const p = makePair(2);
    const code = expect.objectContaining({ code: 'CBKE_BAD_ARGUMENT' });
    expect(() => p.initiator.start(undefined as never)).toThrow(code);
    expect(() => p.initiator.start(new Uint8Array(3))).toThrow(code);
    expect(() => p.initiator.start(EUI_V, Number.NaN)).toThrow(code);
    expect(() => p.initiator.start(EUI_V, 0x10000)).toThrow(code);
    expect(p.initiator.state).toBe('idle');
    expect(p.sent.U).toHaveLength(0);
    for (const o of [
      { ephemeralDataGenerateTime: Number.NaN },
      { confirmKeyGenerateTime: 300 },
      { terminateWaitTime: -1 },
      { timeouts: { marginUs: Number.POSITIVE_INFINITY } },
    ]) {
      expect(() => makePair(2, o), JSON.stringify(o)).toThrow(code);
    }
    expect(() => makePair(2, { ownEui64: undefined as never })).toThrow(
      expect.objectContaining({ code: 'CBKE_BAD_LENGTH' }),
    );
    expectUsable(p);
  });

  it('property: no garbage message or sender makes either machine throw (but the typed error) or get stuck', () => {
    const value = fc.oneof(
      fc.constantFrom(
        undefined,
        null,
        Number.NaN,
        Number.POSITIVE_INFINITY,
        -1,
        1.5,
        256,
        0x10000,
        '2',
        [],
        {},
      ),
      fc.integer({ min: 0, max: 255 }),
      fc.uint8Array({ maxLength: 80 }),
    );
    const message = fc.oneof(
      fc.anything(),
      fc.record(
        {
          command: fc.constantFrom(
            'InitiateKeyEstablishment',
            'EphemeralData',
            'ConfirmKeyData',
            'TerminateKeyEstablishment',
            'Bogus',
            undefined,
          ),
          direction: fc.constantFrom('request', 'response', 'sideways', undefined),
          suite: value,
          ephemeralDataGenerateTime: value,
          confirmKeyGenerateTime: value,
          identity: value,
          ephemeralData: value,
          secureMessageAuthenticationCode: value,
          statusCode: value,
          waitTime: value,
        },
        { requiredKeys: ['command', 'direction'] },
      ),
    );
    const sender = fc.oneof(
      fc.constantFrom(EUI_U, EUI_V, EUI_W, undefined, null, 'x'),
      fc.uint8Array({ maxLength: 9 }),
    );
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 7 }),
        message,
        sender,
        fc.boolean(),
        (hops, junk, from, toResponder) => {
          const p = makePair(2);
          p.initiator.start(EUI_V);
          p.clock.advance(hops * 5_000);
          try {
            if (toResponder) p.responder.receive(junk as never, from as never);
            else p.initiator.receive(junk as never, from as never);
          } catch (e) {
            expect(e).toMatchObject({ name: 'CbkeError', code: 'CBKE_BAD_ARGUMENT' });
          }
          expect(() => p.clock.runAll()).not.toThrow();
          for (const m of [...p.sent.U, ...p.sent.V, ...p.others.map((o) => o.msg)])
            if (m.command === 'TerminateKeyEstablishment') expect(m.suite).toBe(2);
          expectUsable(p);
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe('Terminate Key Establishment names a suite, on the wire', () => {
  const terminateBytes = (m: KeyEstablishmentMessage | undefined) => {
    expect(m?.command).toBe('TerminateKeyEstablishment');
    // ZCL payload: status, wait time, suite (u16 little-endian) - the frame's last four octets
    return [...encodeKeyEstablishment(m!, { transactionSequenceNumber: 1 }).subarray(-4)];
  };
  const eph = (n: number): KeyEstablishmentMessage => ({
    command: 'EphemeralData',
    direction: 'request',
    ephemeralData: new Uint8Array(n),
  });

  it.each([1, 2] as const)(
    'a stray message to an idle suite-%i responder: our suite, not 0x0000',
    (suite) => {
      const p = makePair(suite);
      p.responder.receive(eph(SUITES[suite].pointLength), EUI_W);
      expect(terminateBytes(p.others[0]?.msg)).toEqual([3, 30, suite, 0]);
    },
  );

  it('a stranger during an exchange: the suite in use', () => {
    const p = makePair(2);
    p.initiator.start(EUI_V);
    p.clock.advance(5_000);
    p.responder.receive(eph(37), EUI_W);
    expect(terminateBytes(p.others[0]?.msg)).toEqual([3, 30, 2, 0]);
    p.responder.receive({ ...eph(37), command: 'Bogus' } as never, EUI_W);
    expect(terminateBytes(p.others[1]?.msg)).toEqual([3, 30, 2, 0]);
    p.clock.runAll();
    expect(p.results.V).toMatchObject([{ ok: true }]);
  });

  it('an Initiate naming no suite (0x0000, 0x8000): UnsupportedSuite naming ours', () => {
    const p = makePair(2);
    const d = device(2, { subject: EUI_W });
    for (const [i, suite] of [0x0000, 0x8000].entries()) {
      p.responder.receive(
        {
          command: 'InitiateKeyEstablishment',
          direction: 'request',
          suite,
          ephemeralDataGenerateTime: 10,
          confirmKeyGenerateTime: 15,
          identity: d.certificate,
        },
        EUI_W,
      );
      expect(terminateBytes(p.others[i]?.msg)).toEqual([5, 30, 2, 0]);
    }
  });

  it('unsupported suite: the one requested; the initiator: the one it asked for', () => {
    const d1 = device(1, { subject: EUI_V }, testCa(1));
    const p = makePair(
      2,
      {},
      { credentials: { 1: { certificate: d1.certificate, privateKey: d1.privateKey } } },
    );
    p.initiator.start(EUI_V);
    p.clock.runAll();
    expect(terminateBytes(last(p.sent.V))).toEqual([5, 30, 2, 0]);
    const q = makePair(
      1,
      {},
      {},
      { tap: (m, from) => (from === 'V' && m.command === 'EphemeralData' ? eph(3) : m) },
    );
    q.initiator.start(EUI_V);
    q.clock.runAll();
    expect(terminateBytes(last(q.sent.U))).toEqual([3, 30, 1, 0]);
  });
});
