/**
 * Device triage for the meters (SSC "Reset HAN" paper, protocol-notes §9): the meter's own
 * Device Log (its CH entry), the Reset HAN operation itself, and the glue that puts an
 * `OpticalPort` on a `JoinerRuntime` (relock at power cycle, CH adopted after a rejoin).
 */
import { createHash } from 'node:crypto';
import type { ControlCommand } from '@gbhan/runtime';
import type { NvRecord, NvStore, NvValue, ZigbeeNode } from '@gbhan/stack';
import { fromHex } from '@gbhan/zigbee';
import type { ManufacturerTool } from './manufacturer.js';
import {
  OPTICAL_COMMANDS,
  OpticalPort,
  type OpticalRequest,
  type OpticalResponse,
  type ResetHanReport,
} from './optical-port.js';
import { traceMeter } from './trace-events.js';

export const NV_DEVICE_LOG = 'meter.deviceLog';
const NV_NETWORK = 'stack.network';
const NV_LINK_KEYS = 'stack.linkKeys';
const NV_CHILDREN = 'stack.children';
const NV_CBKE_DONE = 'app.cbkeDone';

/** NVM keys Reset HAN may change: nothing else is touched (the state diff checks it). */
export const RESET_HAN_ALLOWED_KEYS = [
  NV_CBKE_DONE,
  NV_DEVICE_LOG,
  NV_NETWORK,
  NV_CHILDREN,
  NV_LINK_KEYS,
] as const;

export interface DeviceLogEntry {
  eui64: string;
  /** GB device type: 'CHF' for the Communications Hub. */
  type: string;
}

/**
 * The meter's Device Log (GBCS: who it may talk to). ASSUMPTION: only the CH entry is kept
 * here (seeded from the configured CH at first power on, as the installer's commissioning
 * would); the PPMID is accepted by certificate (see the ESME's CBKE responder).
 */
export class MeterDeviceLog {
  constructor(
    private readonly nvm: NvStore,
    initialCh: string | null,
  ) {
    if (nvm.read(NV_DEVICE_LOG) === undefined && initialCh)
      nvm.commit({ [NV_DEVICE_LOG]: [{ eui64: initialCh, type: 'CHF' }] as unknown as NvValue });
  }

  entries(): DeviceLogEntry[] {
    return (this.nvm.read<NvValue[]>(NV_DEVICE_LOG) ?? []) as unknown as DeviceLogEntry[];
  }

  /** The CH's EUI64, or null after a Reset HAN until the meter joins a new CH. */
  get ch(): string | null {
    return this.entries().find((e) => e.type === 'CHF')?.eui64 ?? null;
  }

  addCh(eui64: string): void {
    const rest = this.entries().filter((e) => e.type !== 'CHF');
    this.nvm.commit({ [NV_DEVICE_LOG]: [...rest, { eui64, type: 'CHF' }] as unknown as NvValue });
  }
}

function hashKept(s: NvRecord): string {
  const kept: NvRecord = {};
  for (const k of Object.keys(s).sort())
    if (!(RESET_HAN_ALLOWED_KEYS as readonly string[]).includes(k)) kept[k] = s[k] as NvValue;
  return createHash('sha256').update(JSON.stringify(kept)).digest('hex');
}

/**
 * Reset HAN on the store: one atomic commit that removes the network state, the CBKE and
 * partner link keys, the CH's entries of the meter's Device Log and CBKE record. Kept:
 * install-code key, frame counters, security log and alerts, registers, prepayment,
 * certificates and keys (configuration, never in this store), firmware. Throws (store
 * unchanged) when the commit fails.
 */
export function resetHanStore(nvm: NvStore): ResetHanReport {
  const before = nvm.snapshot();
  const changes: Record<string, NvValue | undefined> = {};
  if (before[NV_NETWORK] !== undefined) changes[NV_NETWORK] = undefined;
  if (before[NV_CHILDREN] !== undefined) changes[NV_CHILDREN] = undefined;
  const removedLinkKeys: string[] = [];
  const keys = before[NV_LINK_KEYS] as Record<string, { origin?: string }> | undefined;
  if (keys) {
    const kept: Record<string, NvValue> = {};
    for (const [peer, rec] of Object.entries(keys)) {
      if (rec.origin === 'install-code') kept[peer] = rec as unknown as NvValue;
      else removedLinkKeys.push(peer);
    }
    if (removedLinkKeys.length) changes[NV_LINK_KEYS] = kept;
  }
  const log = (before[NV_DEVICE_LOG] ?? []) as unknown as DeviceLogEntry[];
  const chs = log.filter((e) => e.type === 'CHF').map((e) => e.eui64);
  if (chs.length) changes[NV_DEVICE_LOG] = log.filter((e) => e.type !== 'CHF') as unknown as NvValue;
  const done = before[NV_CBKE_DONE] as string[] | undefined;
  if (done) {
    const rest = done.filter((p) => !chs.includes(p) && !removedLinkKeys.includes(p));
    if (rest.length !== done.length) changes[NV_CBKE_DONE] = rest.length ? rest : undefined;
  }
  nvm.commit(changes); // atomic: power lost here leaves the old state, never a mix
  const after = nvm.snapshot();
  const changed = [...new Set([...Object.keys(before), ...Object.keys(after)])]
    .filter((k) => JSON.stringify(before[k]) !== JSON.stringify(after[k]))
    .sort();
  return {
    changed,
    keptHashBefore: hashKept(before),
    keptHashAfter: hashKept(after),
    removedLinkKeys: removedLinkKeys.sort(),
    removedDeviceLogEntries: chs,
  };
}

/** What triage needs of a `JoinerRuntime`. */
export interface TriageRuntime {
  readonly node: ZigbeeNode;
  restartApplication(): void;
}

export interface TriageConfig {
  /**
   * Manufacturer public key (hex, SEC1). A scenario run gives every meter the run's key
   * unless its config names another; without one no unlock can succeed.
   */
  manufacturerPublicKey?: string;
  opticalUnlockTimeoutUs?: number;
}

/** Optical port + Device Log + Reset HAN on a meter's runtime. */
export class MeterTriage {
  readonly deviceLog: MeterDeviceLog;
  private port: OpticalPort | null = null;
  private runtime: TriageRuntime | null = null;

  constructor(
    private readonly nvm: NvStore,
    private readonly seed: string | number,
    configuredCh: string,
    private readonly config: TriageConfig,
    /** The facility's tool for the scenario action `optical unlock` without a signature. */
    private readonly tool: ManufacturerTool | null = null,
  ) {
    this.deviceLog = new MeterDeviceLog(nvm, configuredCh);
  }

  /** The CH for the application ('' while the meter has none: matches no peer). */
  get ch(): string {
    return this.deviceLog.ch ?? '';
  }

  /** Attach to the runtime (after it is built). */
  attach(runtime: TriageRuntime): void {
    this.runtime = runtime;
    const node = runtime.node;
    this.port = new OpticalPort({
      eui64: node.eui64,
      clock: node.clock,
      nvm: this.nvm,
      securityLog: node.securityLog,
      trace: (e) => node.trace(e),
      seed: this.seed,
      manufacturerPublicKey: this.config.manufacturerPublicKey
        ? fromHex(this.config.manufacturerPublicKey)
        : null,
      ...(this.config.opticalUnlockTimeoutUs !== undefined
        ? { unlockTimeoutUs: this.config.opticalUnlockTimeoutUs }
        : {}),
      resetHan: () => this.resetHan(),
      diagnostics: () => this.diagnostics(),
    });
  }

  get optical(): OpticalPort {
    if (!this.port) throw new Error('MeterTriage not attached');
    return this.port;
  }

  /** A request from the optical head (local endpoint): a meter that is off does not answer. */
  request(req: OpticalRequest): OpticalResponse {
    if (!this.runtime?.node.isPowered)
      return {
        ok: false,
        command: String(req?.command ?? ''),
        code: 'OPTICAL_POWERED_OFF',
        message: 'the meter is off',
      };
    return this.optical.handle(req);
  }

  /** JoinerRuntime.onPower: any power cycle relocks the port. */
  onPower(): void {
    this.port?.powerCycle();
  }

  /** JoinerRuntime.onNetworkJoined: after a Reset HAN the CH that admitted us is logged. */
  onNetworkJoined(): void {
    const node = this.runtime?.node;
    const tc = node?.network?.tcEui64;
    if (!node || !tc || this.deviceLog.ch) return;
    this.deviceLog.addCh(tc);
    node.setExtendedPanIdFilter(tc);
    traceMeter(node, { type: 'device-log-ch-added', eui64: tc });
  }

  /**
   * The scenario action `optical` (`{action:'optical', command, signature?}`), delivered
   * through the control path. `unlock` without a signature plays the manufacturer's tool with
   * the run's key: challenge, sign, unlock (each step traced); refused without a tool.
   */
  control(cmd: ControlCommand): boolean {
    if (cmd.action !== 'optical') return false;
    const port = this.optical;
    const command = String(cmd.command);
    if (!(OPTICAL_COMMANDS as readonly string[]).includes(command))
      throw new Error(`optical: unknown command '${command}'`);
    if (command === 'unlock' && typeof cmd.signature !== 'string') {
      const tool = this.tool;
      if (tool === null)
        throw new Error("optical: unlock without a signature needs the run's manufacturer key");
      const c = port.handle({ command: 'challenge' });
      if (!c.ok) return true;
      const sig = tool.unlockResponse(String(c.eui64), String(c.challenge));
      port.handle({ command: 'unlock', signature: sig });
      return true;
    }
    port.handle({ command, ...(typeof cmd.signature === 'string' ? { signature: cmd.signature } : {}) });
    return true;
  }

  private resetHan(): ResetHanReport {
    const runtime = this.runtime;
    if (!runtime) throw new Error('not attached');
    const report = resetHanStore(this.nvm);
    const node = runtime.node;
    traceMeter(node, {
      type: 'reset-han',
      changed: report.changed,
      keptUnchanged: report.keptHashBefore === report.keptHashAfter,
      keptHash: report.keptHashAfter,
      removedLinkKeys: report.removedLinkKeys,
      removedDeviceLogEntries: report.removedDeviceLogEntries,
    });
    // RAM to the §3.6.1.4.1 state (the store already is), any EPID accepted, and a fresh
    // application: tunnels and CBKE exchanges with the old CH are gone; the join is re-enabled.
    node.resetNetworkState();
    node.setExtendedPanIdFilter(undefined);
    runtime.restartApplication();
    return report;
  }

  private diagnostics(): Record<string, NvValue> {
    const node = this.runtime?.node;
    const net = node?.network;
    return {
      eui64: node?.eui64 ?? '',
      joined: node?.joined ?? false,
      extendedPanId: net?.extendedPanId ?? '0000000000000000',
      panId: net?.panId ?? 0xffff,
      deviceLog: this.deviceLog.entries() as unknown as NvValue,
      securityLogEntries: node?.securityLog.entries().length ?? 0,
      pendingAlerts: node?.securityLog.pendingAlerts().length ?? 0,
    };
  }
}
