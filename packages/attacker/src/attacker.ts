/**
 * A rogue radio against the CH's Inter-PAN door (SECMP0037's risk "attacks from
 * within radio range"): it scans (hubs by EPID), floods Initiate Key Establishment requests,
 * sends malformed and truncated Inter-PAN frames, presents certificates from an unknown
 * issuer or issued for another EUI64, and replays Inter-PAN frames it captured, on whichever
 * band its radio is on (2.4 GHz or a GB868 page).
 *
 * Frames go straight to the radio (no CSMA-CA: a rogue transmitter does not have to be
 * polite), with any MAC source it likes. A `ZigbeeNode` on the same radio (never joined) does
 * the active scan and acknowledges what the CH sends back; the CH's answers are traced as
 * `attacker-response` (Terminate status and wait time).
 *
 * With `insider` configured it is also a HAN member gone bad: its node joins the target CH
 * with the install code the CHF Device Log holds for it, and with the network key it forges
 * the frames of `insider.ts` against a meter.
 *
 * Scenario commands (`radio.onControl`): the actions of `attackerKind` (kind.ts).
 */
import { type CryptoSuite, TestCa } from '@gbhan/cbke';
import { type BusRadio, Prng } from '@gbhan/radio-bus';
import { type HubSeen, hubsFromBeacons, runCbkeConfig, seededRandom } from '@gbhan/runtime';
import {
  type ChannelSpec,
  dispatchControl,
  type IncomingZcl,
  type KeyExportHook,
  type NvStore,
  ZigbeeNode,
} from '@gbhan/stack';
import {
  decodeKeyEstablishment,
  decodeMacFrame,
  decodeNwkFrame,
  encodeInterPanFrame,
  encodeKeyEstablishment,
  encodeMacFrame,
  fromHex,
  interPanMacFrame,
  isInterPanFrame,
  KEY_ESTABLISHMENT_CLUSTER,
  secureInterPanFrame,
} from '@gbhan/zigbee';
import { INSIDER_ATTACKS, type InsiderAttack, type InsiderContext, insiderPsdu } from './insider.js';
import { ATTACKER_ACTIONS } from './kind.js';
import { traceAttacker } from './trace-events.js';

/** Malformed / truncated Inter-PAN frames the attacker can send (see `malformedPayload`). */
export const MALFORMED_KINDS = [
  // Dropped by the CH's stack before the application sees them:
  /** Inter-PAN stubs (NWK + APS) and nothing after the APS frame control. */
  'truncated-aps-stub',
  /** An APS-secured Inter-PAN frame under a key the CH does not have. */
  'bad-mic',
  /** Random bytes after the NWK stub (seeded). */
  'random-payload',
  // Dropped by the CH's Key Establishment service without an answer:
  /** ZCL header without its command id. */
  'truncated-zcl-header',
  /** A Key Establishment command id that does not exist. */
  'unknown-command',
  // Answered with a Terminate (after which the CH backs off the sender for the wait time):
  /** Ephemeral Data Request out of sequence, with a point that is not on the curve: BadMessage. */
  'stray-ephemeral-data',
  /** Initiate Key Establishment Request whose certificate is cut short. */
  'truncated-certificate',
  /** Initiate Key Establishment Request with a suite nobody supports: UnsupportedSuite. */
  'unknown-suite',
] as const;
export type MalformedKind = (typeof MALFORMED_KINDS)[number];

export interface AttackerConfig {
  /** The CH to attack (default: the first hub the scan hears). */
  targetEui64?: string;
  /** Its PAN id, when no scan is made first. */
  targetPanId?: number;
  /** Channels scanned (default the radio's). */
  channels?: ChannelSpec[];
  /** Crypto suite of the certificates presented (default 2). */
  suite?: CryptoSuite;
  /** Capture Inter-PAN frames heard for `replay` (default true; at most 64 kept). */
  capture?: boolean;
  /**
   * Makes it an insider: this install code (with CRC) is in the target CH's Device Log, so
   * `join` gets it the network key (needs `targetEui64`). Its node is then an rx-on end device.
   */
  installCode?: string;
}

export interface AttackerOptions {
  radio: BusRadio;
  nvm: NvStore;
  seed: string | number;
  config?: AttackerConfig;
  onKeyExport?: KeyExportHook;
  autoPowerOn?: boolean;
}

const CAPTURE_LIMIT = 64;
/** Addresses learnt from overheard NWK headers (EUI64 -> short), at most this many. */
const ADDRESS_LIMIT = 256;
/**
 * ASSUMPTION: the insider's forgeries use frame counters from 2^30 up, above anything its own
 * node has used, so receivers' counter checks pass without knowing the node's counter.
 */
const FORGED_COUNTER_BASE = 0x4000_0000;
/** Issuer id of the rogue CA ("ROGUECA!"). */
const ROGUE_ISSUER = '524f475545434121';

export class Attacker {
  readonly node: ZigbeeNode;
  /** Inter-PAN PSDUs heard from others, oldest first. */
  readonly captured: Uint8Array[] = [];
  /** Frames this attacker put on the air. */
  sent = 0;
  private target: { eui64: string; panId: number } | null;
  private readonly prng: Prng;
  private readonly suite: CryptoSuite;
  private tsn = 0;
  private seq = 0;
  private powered = false;
  /** Short addresses heard on the HAN, by EUI64 (insider: who to aim at). */
  private readonly heard = new Map<string, number>();
  private readonly forged: InsiderContext['counters'] = {
    macSeq: 0,
    nwkSeq: 0,
    nwkFc: FORGED_COUNTER_BASE,
    apsFc: FORGED_COUNTER_BASE,
    apsCounter: 0,
    zdoTsn: 0,
  };

  constructor(private readonly o: AttackerOptions) {
    const c = o.config ?? {};
    this.suite = c.suite ?? 2;
    this.prng = new Prng(`${o.seed}/attacker/${o.radio.eui64}`);
    this.target =
      c.targetEui64 !== undefined ? { eui64: c.targetEui64, panId: c.targetPanId ?? 0xffff } : null;
    const insider = c.installCode !== undefined;
    if (insider && c.targetEui64 === undefined) throw new Error('an insider needs targetEui64 (its CH)');
    this.node = new ZigbeeNode(o.radio, o.nvm, {
      role: insider ? 'end-device' : 'router',
      seed: o.seed,
      // Its sniffer (capture, address learning) reads every frame, not only those for its MAC.
      promiscuous: true,
      ...(c.channels ? { channels: c.channels } : {}),
      ...(insider ? { installCode: c.installCode, extendedPanId: c.targetEui64 } : {}),
      ...(o.onKeyExport ? { onKeyExport: o.onKeyExport } : {}),
    });
    this.node.onZcl((m) => this.onAnswer(m));
    o.radio.onReceive((rx) => {
      if ((c.capture ?? true) && this.powered) this.capture(rx.psdu);
      if (insider && this.powered) this.learnAddress(rx.psdu);
    });
    o.radio.onControl((cmd) => this.control(cmd));
    if (o.autoPowerOn ?? true) this.powerOn();
  }

  powerOn(): void {
    if (this.powered) return;
    this.powered = true;
    void this.node.powerOn();
  }

  powerOff(): void {
    if (!this.powered) return;
    this.powered = false;
    this.node.powerOff();
  }

  close(): void {
    this.powerOff();
    this.o.radio.close();
  }

  busClosed(): void {
    this.powered = false;
  }

  /** Active scan: the hubs heard by EPID; the first (or the configured one) becomes the target. */
  async scan(): Promise<HubSeen[]> {
    const hubs = hubsFromBeacons(await this.node.activeScan(this.o.config?.channels));
    const want = this.o.config?.targetEui64;
    const hub = want === undefined ? hubs[0] : hubs.find((h) => h.epid === want);
    if (hub) {
      this.target = { eui64: hub.epid, panId: hub.panId };
      this.node.tune(hub.page, hub.channel);
    }
    traceAttacker(this.node, { type: 'attacker-scan', hubs, target: this.target?.eui64 ?? null });
    return hubs;
  }

  /**
   * `count` Initiate Key Establishment Requests, one every `intervalUs`, each presenting a
   * certificate from the rogue CA (`'unknown-issuer'`) or the run CA's certificate of another
   * device (`'foreign'`). With `spoof` > 0 the MAC/certificate subject rotates over that many
   * made-up EUI64s.
   */
  flood(
    o: {
      count?: number;
      intervalUs?: number;
      spoof?: number;
      certificate?: 'unknown-issuer' | 'foreign';
    } = {},
  ): void {
    const count = o.count ?? 20;
    const interval = o.intervalUs ?? 50_000;
    traceAttacker(this.node, { type: 'attacker-flood', count, intervalUs: interval, spoof: o.spoof ?? 0 });
    for (let i = 0; i < count; i++) {
      this.node.clock.setTimer(i * interval, () => {
        if (!this.powered) return;
        const source = o.spoof ? this.spoofed(i % o.spoof) : this.o.radio.eui64;
        const cert =
          o.certificate === 'foreign'
            ? this.certificateOf(this.spoofed(1000 + i))
            : this.rogueCertificate(source);
        this.sendZcl(this.initiate(cert), source, 'flood');
      });
    }
  }

  /** One Initiate with a certificate from an issuer the CH does not trust. */
  unknownIssuer(): void {
    this.sendZcl(
      this.initiate(this.rogueCertificate(this.o.radio.eui64)),
      this.o.radio.eui64,
      'unknown-issuer',
    );
  }

  /**
   * One Initiate presenting the certificate of another device `of` (certificates are public:
   * one is heard on air in every exchange; stand-in: the run CA's certificate for that EUI64).
   */
  foreignCertificate(of: string): void {
    this.sendZcl(this.initiate(this.certificateOf(of)), this.o.radio.eui64, 'foreign-certificate');
  }

  private certificateOf(eui64: string): Uint8Array {
    return runCbkeConfig(this.o.seed, eui64, undefined, this.suite).credentials[this.suite]!.certificate;
  }

  /** One frame of each kind asked for (default all), 20 ms apart. */
  malformed(kinds: readonly MalformedKind[] = MALFORMED_KINDS): void {
    kinds.forEach((k, i) => {
      this.node.clock.setTimer(i * 20_000, () => {
        if (this.powered) this.sendRaw(this.malformedPayload(k), this.o.radio.eui64, `malformed:${k}`);
      });
    });
  }

  /** Re-send the last `count` Inter-PAN frames captured (default all), verbatim, 20 ms apart. */
  replay(count = this.captured.length): void {
    const frames = this.captured.slice(-count);
    traceAttacker(this.node, { type: 'attacker-replay', frames: frames.length });
    frames.forEach((psdu, i) => {
      this.node.clock.setTimer(i * 20_000, () => {
        if (!this.powered) return;
        this.sent++;
        void this.o.radio.transmit(psdu);
      });
    });
  }

  /** Insider: join the target CH's HAN with the install code the Device Log holds for us. */
  async join(): Promise<void> {
    if (this.o.config?.installCode === undefined)
      throw new Error('join: this attacker is not an insider (config installCode)');
    const result = await this.node.join();
    traceAttacker(this.node, { type: 'attacker-joined', result, short: this.node.shortAddress });
  }

  /**
   * Insider: forge each of `attacks` (default all) against the meter `target`, 20 ms apart.
   * Needs the network (joined) and the target's short address (heard on the air).
   */
  insider(target: string, attacks: readonly InsiderAttack[] = INSIDER_ATTACKS): void {
    attacks.forEach((attack, i) => {
      this.node.clock.setTimer(i * 20_000, () => {
        if (!this.powered) return;
        const net = this.node.network;
        const short = this.heard.get(target);
        if (!net || !this.node.joined || net.tcEui64 === null || short === undefined) {
          traceAttacker(this.node, {
            type: 'attacker-no-target',
            what: `insider:${attack}`,
            reason: !this.node.joined ? 'not-joined' : 'target-address-unknown',
          });
          return;
        }
        const psdu = insiderPsdu(attack, {
          panId: net.panId,
          networkKey: net.networkKey,
          keySequenceNumber: net.keySequenceNumber,
          self: { eui64: this.o.radio.eui64, short: this.node.shortAddress },
          target: { eui64: target, short },
          ch: { eui64: net.tcEui64, short: 0x0000 },
          counters: this.forged,
          forgedKey: Uint8Array.from(this.randomBytes(16)),
        });
        this.sent++;
        traceAttacker(this.node, { type: 'attacker-insider', attack, target, octets: psdu.length });
        void this.o.radio.transmit(psdu);
      });
    });
  }

  /** The Inter-PAN payload (NWK stub onwards) of a malformed frame of `kind`. */
  malformedPayload(kind: MalformedKind): Uint8Array {
    const stubs = (zcl: Uint8Array) =>
      encodeInterPanFrame({
        deliveryMode: 'unicast',
        clusterId: KEY_ESTABLISHMENT_CLUSTER,
        profileId: 0x0109,
        security: false,
        payload: zcl,
      });
    const tsn = this.nextTsn();
    switch (kind) {
      case 'truncated-certificate':
        return stubs(this.initiate(this.rogueCertificate(this.o.radio.eui64)).subarray(0, 3 + 4 + 30));
      case 'unknown-suite': {
        const zcl = this.initiate(this.rogueCertificate(this.o.radio.eui64));
        zcl[3] = 0x00;
        zcl[4] = 0x80; // suite bitmap 0x8000
        return stubs(zcl);
      }
      case 'unknown-command':
        return stubs(Uint8Array.of(0x01, tsn, 0x3f, 0x00));
      case 'truncated-zcl-header':
        return stubs(Uint8Array.of(0x01, tsn));
      case 'truncated-aps-stub':
        return Uint8Array.of(0x0b, 0x00, 0x03);
      case 'stray-ephemeral-data': {
        const len = this.suite === 2 ? 37 : 22;
        const point = new Uint8Array(len).fill(0xff);
        point[0] = 0x02;
        return stubs(
          encodeKeyEstablishment(
            { command: 'EphemeralData', direction: 'request', ephemeralData: point },
            { transactionSequenceNumber: tsn },
          ),
        );
      }
      case 'bad-mic':
        // APS-secured under a key of our own: the CH has none for us (or not this one).
        return secureInterPanFrame(
          {
            deliveryMode: 'unicast',
            clusterId: KEY_ESTABLISHMENT_CLUSTER,
            profileId: 0x0109,
            security: false,
            payload: Uint8Array.of(0x01, tsn, 0x00),
          },
          {
            key: Uint8Array.from(this.randomBytes(16)),
            frameCounter: this.prng.nextUint32(),
            sourceEui64: this.o.radio.eui64,
          },
        );
      case 'random-payload':
        return Uint8Array.of(0x0b, 0x00, ...this.randomBytes(5 + (this.prng.nextUint32() % 40)));
    }
  }

  /** A scenario command, through `ATTACKER_ACTIONS`. Never throws: refusals are traced. */
  control(cmd: Record<string, unknown>): void {
    dispatchControl(cmd, {
      actions: ATTACKER_ACTIONS,
      host: this.node,
      powered: this.powered,
      handlers: {
        'power-on': () => this.powerOn(),
        'power-off': () => this.powerOff(),
        scan: () => void this.scan(),
        flood: (c) =>
          this.flood({
            ...(c.count !== undefined ? { count: c.count } : {}),
            ...(c.interval !== undefined ? { intervalUs: c.interval } : {}),
            ...(c.spoof !== undefined ? { spoof: c.spoof } : {}),
            ...(c.certificate === 'foreign' ? { certificate: 'foreign' as const } : {}),
          }),
        malformed: (c) => {
          const kinds = c.kinds ?? MALFORMED_KINDS;
          const unknown = kinds.filter((k) => !(MALFORMED_KINDS as readonly string[]).includes(k));
          if (unknown.length > 0) throw new Error(`malformed: unknown kinds ${unknown.join(', ')}`);
          this.malformed(kinds as MalformedKind[]);
        },
        'unknown-issuer': () => this.unknownIssuer(),
        'foreign-certificate': (c) => this.foreignCertificate(c.peer ?? this.spoofed(0xfff)),
        replay: (c) => this.replay(c.count),
        join: () => void this.join(),
        insider: (c) => this.insider(c.target, c.attacks),
      },
    });
  }

  // ------------------------------------------------------------------ internals

  private onAnswer(m: IncomingZcl): void {
    if (m.clusterId !== KEY_ESTABLISHMENT_CLUSTER) {
      traceAttacker(this.node, { type: 'attacker-response', from: m.from.eui64, clusterId: m.clusterId });
      return;
    }
    try {
      const { message } = decodeKeyEstablishment(m.zcl);
      traceAttacker(this.node, {
        type: 'attacker-response',
        from: m.from.eui64,
        command: message.command,
        ...(message.command === 'TerminateKeyEstablishment'
          ? { status: message.statusCode, waitTime: message.waitTime }
          : {}),
      });
    } catch (e) {
      traceAttacker(this.node, {
        type: 'attacker-response',
        from: m.from.eui64,
        undecodable: (e as Error).message,
      });
    }
  }

  /** Insider: note who uses which short address (NWK headers are in the clear). */
  private learnAddress(psdu: Uint8Array): void {
    try {
      const f = decodeMacFrame(psdu);
      if (f.frameType !== 'data' || isInterPanFrame(f.payload)) return;
      const n = decodeNwkFrame(f.payload);
      if (n.sourceIeee === undefined || n.sourceIeee === this.o.radio.eui64) return;
      if (!this.heard.has(n.sourceIeee) && this.heard.size >= ADDRESS_LIMIT) return;
      this.heard.set(n.sourceIeee, n.source);
    } catch {
      /* not ours to judge: the node traces what it cannot decode */
    }
  }

  private capture(psdu: Uint8Array): void {
    try {
      const f = decodeMacFrame(psdu);
      if (f.frameType !== 'data' || f.source === this.o.radio.eui64 || !isInterPanFrame(f.payload)) return;
    } catch {
      return;
    }
    this.captured.push(psdu.slice());
    if (this.captured.length > CAPTURE_LIMIT) this.captured.shift();
  }

  private initiate(certificate: Uint8Array): Uint8Array {
    return encodeKeyEstablishment(
      {
        command: 'InitiateKeyEstablishment',
        direction: 'request',
        suite: this.suite,
        ephemeralDataGenerateTime: 10,
        confirmKeyGenerateTime: 15,
        identity: certificate,
      },
      { transactionSequenceNumber: this.nextTsn() },
    );
  }

  private rogueCa: TestCa | null = null;
  private rogueCertificate(subject: string): Uint8Array {
    this.rogueCa ??= new TestCa({
      suite: this.suite,
      issuer: fromHex(ROGUE_ISSUER),
      random: seededRandom(`${this.o.seed}/rogue-ca/${this.o.radio.eui64}`),
    });
    return this.rogueCa.issueDevice({ subject: fromHex(subject), serial: fromHex(subject) }).certificate;
  }

  /** A made-up EUI64 (locally administered OUI 02:ad:00). */
  private spoofed(i: number): string {
    return `02ad00${(0x100000000 + (i >>> 0)).toString(16).slice(1)}00`;
  }

  private sendZcl(zcl: Uint8Array, source: string, what: string): void {
    const payload = encodeInterPanFrame({
      deliveryMode: 'unicast',
      clusterId: KEY_ESTABLISHMENT_CLUSTER,
      profileId: 0x0109,
      security: false,
      payload: zcl,
    });
    this.sendRaw(payload, source, what);
  }

  private sendRaw(payload: Uint8Array, source: string, what: string): void {
    const t = this.target;
    if (!t) {
      traceAttacker(this.node, { type: 'attacker-no-target', what });
      return;
    }
    this.seq = (this.seq + 1) & 0xff;
    const psdu = encodeMacFrame(
      interPanMacFrame({
        sequenceNumber: this.seq,
        destinationPan: t.panId,
        destination: t.eui64,
        sourcePan: 0xffff,
        source,
        payload,
      }),
    );
    this.sent++;
    traceAttacker(this.node, { type: 'attacker-send', what, source, octets: psdu.length });
    void this.o.radio.transmit(psdu);
  }

  private nextTsn(): number {
    this.tsn = (this.tsn + 1) & 0xff;
    return this.tsn;
  }

  private randomBytes(n: number): number[] {
    return Array.from({ length: n }, () => this.prng.nextUint32() & 0xff);
  }
}
