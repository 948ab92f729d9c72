/**
 * The device's checks: every refusal reason from one command built with the test PKI, the
 * pre-command flow equals buildCommand, and truncated or mutated commands always end in a
 * typed refusal (property tests), never another throw.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  buildAlert,
  buildCommand,
  buildPreCommand,
  buildResponse,
  cs01aTopUp,
  decodeGbcsMessage,
  deviceGbcsKeys,
  ecs70SetClock,
  fromHex,
  GbcsError,
  remoteParties,
  signGeneralSigning,
  toHex,
  trustAnchorsOf,
  type VerifyCommandOptions,
  verifyCommand,
  verifyDeviceMessage,
  wrapCommand,
} from '../src/index.js';

const p = remoteParties('command-test');
const esme = deviceGbcsKeys('command-test', '00db1234567890a0');
const anchors = trustAnchorsOf([p.supplier, p.acb, p.supplier2]);
const opts = (last?: bigint): VerifyCommandOptions => ({
  deviceKaPrivate: esme.ka.privateKey,
  deviceSystemTitle: esme.systemTitle,
  trustAnchors: anchors,
  lastAcceptedCounter: () => last,
});
const base = {
  originator: p.supplier.systemTitle,
  recipient: esme.systemTitle,
  acbKaPrivate: p.acb.ka.privateKey,
  deviceKaPublic: esme.ka.publicKey,
};
const clock = ecs70SetClock({
  counter: 1000n,
  validityStart: fromHex('07de0c1fff173b0a008000ff'),
  validityEnd: fromHex('07df0101ff00000a008000ff'),
});
const ecs70 = buildCommand({
  ...base,
  useCase: 'ECS70',
  counter: 1000n,
  payload: clock,
  signer: p.supplier.ds.privateKey,
});
const cs01a = buildCommand({
  ...base,
  useCase: 'CS01a',
  counter: 5n,
  payload: cs01aTopUp('73946144332040217315', 5n),
});

describe('buildCommand / verifyCommand', () => {
  it('accepts a signed critical command and an unsigned non-critical one', () => {
    const r = verifyCommand(ecs70, opts());
    expect(r).toMatchObject({ ok: true, counter: 1000n, signed: true, originatorRole: 'supplier' });
    if (r.ok) expect(r.useCase.name).toBe('ECS70');
    expect(verifyCommand(cs01a, opts(4n))).toMatchObject({ ok: true, signed: false });
  });

  it('pre-command -> supplier signature -> ACB MAC is byte-identical to buildCommand', () => {
    const pre = buildPreCommand({
      useCase: 'ECS70',
      originator: base.originator,
      recipient: base.recipient,
      counter: 1000n,
      payload: clock,
    });
    expect(decodeGbcsMessage(pre).signing.signature).toBeNull();
    const wrapped = wrapCommand(signGeneralSigning(pre, p.supplier.ds.privateKey), base);
    expect(toHex(wrapped)).toBe(toHex(ecs70));
  });

  it('refuses a critical command without a signer at build time', () => {
    expect(() => buildCommand({ ...base, useCase: 'ECS70', counter: 1n, payload: clock })).toThrow(GbcsError);
  });

  it('names each refusal', () => {
    const reason = (bytes: Uint8Array, o = opts()) => {
      const r = verifyCommand(bytes, o);
      return r.ok ? 'ok' : r.reason;
    };
    expect(reason(ecs70, opts(1000n))).toBe('stale-counter');
    expect(reason(ecs70, opts(999n))).toBe('ok');
    expect(reason(ecs70, { ...opts(), deviceSystemTitle: fromHex('00db1234567890a1') })).toBe(
      'wrong-recipient',
    );
    const fromStranger = buildCommand({
      ...base,
      originator: p['network-operator'].systemTitle,
      useCase: 'CS01a',
      counter: 9n,
      payload: Uint8Array.of(1),
    });
    expect(reason(fromStranger)).toBe('unknown-originator');
    const wrongAcb = buildCommand({
      ...base,
      acbKaPrivate: p.supplier2.ka.privateKey,
      useCase: 'CS01a',
      counter: 9n,
      payload: Uint8Array.of(1),
    });
    expect(reason(wrongAcb)).toBe('bad-mac');
    // An unsigned ECS70 (a PPMID forging a critical command with a valid MAC would need the ACB key;
    // here the ACB MACs an unsigned one): refused as unsigned-critical.
    const pre = buildPreCommand({
      useCase: 'ECS70',
      originator: base.originator,
      recipient: base.recipient,
      counter: 2000n,
      payload: clock,
    });
    expect(reason(wrapCommand(pre, base))).toBe('unsigned-critical');
    const signedBySupplier2 = wrapCommand(signGeneralSigning(pre, p.supplier2.ds.privateKey), base);
    expect(reason(signedBySupplier2)).toBe('bad-signature');
    const unknownCode = wrapCommand(
      buildPreCommand({
        useCase: 0x0007,
        originator: base.originator,
        recipient: base.recipient,
        counter: 1n,
        payload: Uint8Array.of(1),
      }).map((b, i) => (i === 32 ? 0x7e : b)),
      base,
    );
    expect(decodeGbcsMessage(unknownCode).signing.messageCode).toBe(0x7e);
    expect(reason(unknownCode)).toBe('unknown-use-case');
    const response = buildResponse({
      useCase: 'CS01a',
      originator: esme.systemTitle,
      recipient: base.originator,
      counter: 5n,
      payload: Uint8Array.of(0xda),
      deviceKaPrivate: esme.ka.privateKey,
      recipientKaPublic: p.supplier.ka.publicKey,
    });
    expect(reason(response)).toBe('not-a-command');
    expect(reason(Uint8Array.of(0xdd, 0))).toBe('malformed');
    expect(verifyCommand(Uint8Array.of(0xdd, 0), opts())).toMatchObject({
      field: 'GENERAL_CIPHERING.originator.length',
    });
    expect(reason(decodeGbcsMessage(ecs70).generalSigningBytes)).toBe('malformed');
  });

  it('truncations of a command are refused as malformed', () => {
    for (let n = 0; n < cs01a.length; n++)
      expect(verifyCommand(cs01a.subarray(0, n), opts())).toMatchObject({ ok: false, reason: 'malformed' });
  });

  it('any mutation of a command is refused with a typed reason, never a throw (property)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(ecs70, cs01a),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 4 }),
        (msg, flips) => {
          const bad = Uint8Array.from(msg);
          for (const [at, x] of flips) bad[at % bad.length]! ^= x;
          const r = verifyCommand(bad, opts());
          expect(r.ok).toBe(false);
          if (!r.ok)
            expect([
              'malformed',
              'not-a-command',
              'wrong-recipient',
              'unknown-originator',
              'unknown-use-case',
              'bad-mac',
              'unsigned-critical',
              'bad-signature',
            ]).toContain(r.reason);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('random bytes (and random bytes behind a DD/DF tag) are refused, never thrown (property)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom([], [0xdd], [0xdf], [0xdd, 0, 0, 0, 0, 0, 0]),
        fc.uint8Array({ maxLength: 200 }),
        (prefix, tail) => {
          const r = verifyCommand(Uint8Array.from([...prefix, ...tail]), opts());
          expect(r.ok).toBe(false);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('buildResponse / buildAlert', () => {
  it("a critical use case: signed General Signing alone; otherwise MAC'd", () => {
    const keys = {
      deviceDsPrivate: esme.ds.privateKey,
      deviceKaPrivate: esme.ka.privateKey,
      recipientKaPublic: p.supplier.ka.publicKey,
    };
    const check = {
      deviceDsPublic: esme.ds.publicKey,
      deviceKaPublic: esme.ka.publicKey,
      recipientKaPrivate: p.supplier.ka.privateKey,
    };
    const common = {
      originator: esme.systemTitle,
      recipient: p.supplier.systemTitle,
      counter: 1000n,
      payload: Uint8Array.of(0xda, 0x20),
      ...keys,
    };
    const signed = buildResponse({ ...common, useCase: 'ECS70' });
    expect(signed[0]).toBe(0xdf);
    expect(verifyDeviceMessage(signed, check)).toMatchObject({ ok: true, authenticatedBy: 'signature' });
    const macd = buildResponse({ ...common, useCase: 'CS01a' });
    expect(macd[0]).toBe(0xdd);
    expect(verifyDeviceMessage(macd, check)).toMatchObject({ ok: true, authenticatedBy: 'mac' });
    const alert = buildAlert({ ...common, useCase: 'CS01a', counter: 77n });
    expect(decodeGbcsMessage(alert).signing.cra).toBe('alert');
    expect(verifyDeviceMessage(alert, check)).toMatchObject({ ok: true, authenticatedBy: 'mac' });
    const tampered = Uint8Array.from(macd);
    tampered[40]! ^= 1;
    expect(verifyDeviceMessage(tampered, check)).toMatchObject({ ok: false });
  });
});
