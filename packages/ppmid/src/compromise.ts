/**
 * SECMP0038 attacks: a **compromised enhanced PPMID** (config `compromised`), the attacker's
 * foothold between the consumer's channel and the HAN.
 *
 * ASSUMPTION (the attacker model): whoever controls the consumer's Wi-Fi (a man in the middle
 * on the home's WLAN) or the PPMID's firmware sees every command the head-end posts before the
 * PPMID passes it on, and can drop, hold, reorder, copy or alter it, and post its own. The two
 * footholds are one capability against the HAN route, so one mode models both, applied to what
 * the PPMID receives on its alternative channel before it passes it on (`intercept`) plus
 * injections at chosen times (`replay`, `tamper`, `forge`, `flood`, `relay`). The attacker holds:
 * the PPMID's HAN keys (its tunnel with the CH), the public test PKI (every remote party's
 * entity id, the meter's public GBCS keys, as on SMKI certificates), and the private DS and
 * KA keys of **a second Supplier** (`supplier2`: a Supplier this meter does not trust - an
 * insider at another Supplier). It does **not** hold the home Supplier's or the DCC Access
 * Control Broker's private keys: its own forgeries use supplier2's keys in their place.
 *
 * Genuine commands are numbered in the order they first arrive (1, 2, ...; a retry carrying the
 * same originator counter is the same command, a `copy`).
 */
import type { Clock } from '@gbhan/clock';
import {
  Dcc,
  type DccRequest,
  deviceGbcsKeys,
  flipBit,
  type RemoteParties,
  type RemotePartyRole,
  remoteParties,
} from '@gbhan/gbcs';
import { header } from './alt-channel.js';
import type { PpmidEmitted } from './trace-events.js';

/** What the compromised PPMID does to genuine commands (by their number, 1-based). */
export interface CompromiseConfig {
  /** Dropped, every copy, never passed on. */
  withhold?: number[];
  /** Held for `byUs` (copies meanwhile dropped), then passed on. */
  delay?: { commands: number[]; byUs: number };
  /** Held until the next genuine command arrives; that one is passed on first, then this one. */
  reorder?: number[];
}

/** Forgeries the attacker can make with the keys it holds. */
export type ForgeSigner =
  /** The header names supplier2, signed with supplier2's key: a Supplier the meter does not trust. */
  | 'supplier2'
  /** The header names the home's Supplier; signed and MAC'd with supplier2's keys (the right ones are not held). */
  | 'supplier';

export type ForgeUseCase = 'ECS42' | 'ECS43' | 'ECS09';

export type AttackKind =
  | 'withhold'
  | 'delay'
  | 'release'
  | 'reorder'
  | 'replay'
  | 'tamper'
  | 'forge'
  | 'flood'
  | 'relay';

export interface CompromiseOptions {
  clock: Clock;
  trace: (e: PpmidEmitted) => void;
  /** The run seed (public keys of the test PKI; supplier2's private keys). */
  seed: string | number;
  /** The meter the home's commands go to (the PPMID's ESME). */
  meterEui64: string;
  config: CompromiseConfig;
  /** Pass a command on to the CH (the relay's normal path: checked, traced). */
  pass: (bytes: Uint8Array) => void;
  /** Post a command over a link to another member (an alternative channel's envelope). */
  post: (link: string, to: string, bytes: Uint8Array) => void;
}

/** supplier2's keys where the attacker lacks the real ones (home Supplier, ACB, network operator). */
export function attackerParties(seed: string | number): RemoteParties {
  const real = remoteParties(String(seed));
  const held = real.supplier2;
  const out = {} as RemoteParties;
  for (const role of Object.keys(real) as RemotePartyRole[])
    out[role] = role === 'supplier2' ? held : { ...real[role], ds: held.ds, ka: held.ka };
  return out;
}

export class Compromise {
  /** Originator counter of each genuine command -> its number. */
  private readonly numbers = new Map<string, number>();
  private last: Uint8Array | null = null;
  private lastCounter: bigint | null = null;
  /** Commands held now (delay or reorder), by counter. */
  private readonly held = new Set<string>();
  private reorderHeld: { counter: string; bytes: Uint8Array } | null = null;
  private readonly dcc: Dcc;

  constructor(private readonly o: CompromiseOptions) {
    const seed = String(o.seed);
    this.dcc = new Dcc({
      parties: attackerParties(seed),
      // Public keys only (the meter's SMKI certificates).
      deviceKeys: (eui64) => {
        const k = deviceGbcsKeys(seed, eui64);
        return { dsPublic: k.ds.publicKey, kaPublic: k.ka.publicKey };
      },
    });
  }

  /** The command captured last (what `replay`, `tamper`, `flood` and `relay` use). */
  get captured(): Uint8Array | null {
    return this.last;
  }

  /** A genuine command off the channel, before the PPMID passes it on: what became of it. */
  intercept(bytes: Uint8Array): 'pass' | 'withhold' | 'delay' | 'reorder' {
    const h = header(bytes);
    const key = h.counter ?? `octets:${Buffer.from(bytes).toString('hex')}`;
    let n = this.numbers.get(key);
    const copy = n !== undefined;
    if (n === undefined) {
      n = this.numbers.size + 1;
      this.numbers.set(key, n);
      this.last = bytes;
      this.lastCounter = h.counter === null ? null : BigInt(h.counter);
    }
    const ev = <A extends AttackKind>(attack: A, extra: { delayUs?: number } = {}): A => {
      this.o.trace({
        type: 'ppmid-attack',
        attack,
        command: n,
        copy,
        ...h,
        ...extra,
      });
      return attack;
    };
    const c = this.o.config;
    if (c.withhold?.includes(n)) return ev('withhold');
    if (this.held.has(key)) return ev(this.reorderHeld?.counter === key ? 'reorder' : 'delay');
    if (!copy && c.delay?.commands.includes(n)) {
      const byUs = c.delay.byUs;
      this.held.add(key);
      ev('delay', { delayUs: byUs });
      this.o.clock.setTimer(byUs, () => {
        this.held.delete(key);
        ev('release', { delayUs: byUs });
        this.o.pass(bytes);
      });
      return 'delay';
    }
    if (!copy && c.reorder?.includes(n) && this.reorderHeld === null) {
      this.held.add(key);
      this.reorderHeld = { counter: key, bytes };
      return ev('reorder');
    }
    this.o.pass(bytes);
    const r = this.reorderHeld;
    if (!copy && r !== null) {
      // The newer one went first; now the one held back.
      this.reorderHeld = null;
      this.held.delete(r.counter);
      this.o.trace({
        type: 'ppmid-attack',
        attack: 'release',
        command: this.numbers.get(r.counter) ?? null,
        copy: false,
        ...header(r.bytes),
        after: n,
      });
      this.o.pass(r.bytes);
    }
    return 'pass';
  }

  private nothing(attack: AttackKind): boolean {
    if (this.last !== null) return false;
    this.o.trace({
      type: 'ppmid-attack',
      attack,
      command: null,
      useCase: null,
      counter: null,
      reason: 'nothing-captured',
    });
    return true;
  }

  private injected(attack: AttackKind, bytes: Uint8Array, extra: Record<string, unknown> = {}) {
    const h = header(bytes);
    this.o.trace({ type: 'ppmid-attack', attack, command: null, ...h, ...extra } as PpmidEmitted);
  }

  /** The last captured command again, byte for byte. */
  replay(): void {
    if (this.nothing('replay')) return;
    this.injected('replay', this.last!);
    this.o.pass(this.last!);
  }

  /** The last captured command with one bit flipped (default: the middle bit). */
  tamper(bit?: number): void {
    if (this.nothing('tamper')) return;
    const b = bit ?? (this.last!.length * 8) >> 1;
    const bytes = flipBit(this.last!, Math.min(b, this.last!.length * 8 - 1));
    this.injected('tamper', bytes, { bit: b });
    this.o.pass(bytes);
  }

  /**
   * A command of the attacker's making for the meter: `useCase` (default ECS42, supply enable),
   * counter one above the last captured one (so no counter check would stop it), signed and
   * MAC'd with the keys the attacker holds (supplier2's).
   */
  forge(signer: ForgeSigner, useCase: ForgeUseCase = 'ECS42'): void {
    const counter = (this.lastCounter ?? BigInt(Math.floor(this.o.clock.now() / 1000))) + 1n;
    const req: DccRequest = { useCase };
    const built = this.dcc.command(this.o.meterEui64, req, {
      nowUnixMs: 0,
      as: signer === 'supplier2' ? 'supplier2' : 'supplier',
      forge: { counter, signAs: 'supplier2', macAs: 'supplier2' },
    });
    this.injected('forge', built.bytes, { signer });
    this.o.pass(built.bytes);
  }

  /** `count` copies of the last captured command, `intervalUs` apart, at the CH. */
  flood(count: number, intervalUs: number): void {
    if (this.nothing('flood')) return;
    const bytes = this.last!;
    const one = (i: number) => {
      this.injected('flood', bytes, { n: i + 1 });
      this.o.pass(bytes);
      if (i + 1 < count) this.o.clock.setTimer(intervalUs, () => one(i + 1));
    };
    one(0);
  }

  /** The last captured command posted to another home's enhanced PPMID (over `link`). */
  relay(link: string, to: string): void {
    if (this.nothing('relay')) return;
    this.injected('relay', this.last!, { to, link });
    this.o.post(link, to, this.last!);
  }
}
