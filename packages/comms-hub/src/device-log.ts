/**
 * The CHF Device Log (protocol-notes §1): the whitelist of devices allowed on the SMHAN, each
 * an EUI64, a GB device type and the install code its preconfigured trust-centre link key is
 * derived from. The DCC changes it with "Update HAN Device Log" service requests (the WAN
 * side); it lives in NVM, survives power cycles and gives the stack its admission policy.
 * The CHF talks only to devices in the log: anything else is refused, traced and written to
 * the security log.
 */
import type { Clock } from '@gbhan/clock';
import type { NvStore } from '@gbhan/stack';
import { installCodeLinkKey, isEui64, toHex, validateInstallCode } from '@gbhan/zigbee';
import type { CommsHubTraceEvent } from './trace-events.js';

/** Device types the CHF may log (itself and the GPF are not joiners). */
export const LOGGABLE_TYPES = ['ESME', 'GSME', 'PPMID', 'HCALCS', 'HHT', 'Type2'] as const;
export type LoggableType = (typeof LOGGABLE_TYPES)[number];

export type DeviceLogEntry = {
  eui64: string;
  deviceType: LoggableType;
  /** Install code with its CRC, lowercase hex. */
  installCode: string;
  /** CBKE with the CHF completed (the device is commissioned on the HAN). */
  commissioned: boolean;
};

export type DeviceLogErrorCode =
  | 'DEVICE_LOG_BAD_EUI64'
  | 'DEVICE_LOG_BAD_TYPE'
  | 'DEVICE_LOG_BAD_INSTALL_CODE'
  | 'DEVICE_LOG_FULL'
  | 'DEVICE_LOG_NOT_FOUND';

export class DeviceLogError extends Error {
  constructor(
    readonly code: DeviceLogErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'DeviceLogError';
  }
}

export interface DeviceLogOptions {
  nvm: NvStore;
  clock: Clock;
  trace: (e: CommsHubTraceEvent) => void;
  /** The device's security log (the stack's `SecurityLog.record`). */
  securityLog: (event: string, detail?: Record<string, string | number | boolean>) => void;
  // ASSUMPTION: a CHF Device Log of 16 entries (a home's meters, PPMIDs, HCALCS, spares).
  capacity?: number;
}

const NV_KEY = 'chf.deviceLog';

export class DeviceLog {
  constructor(private readonly o: DeviceLogOptions) {}

  entries(): DeviceLogEntry[] {
    return this.o.nvm.read<DeviceLogEntry[]>(NV_KEY) ?? [];
  }

  get(eui64: string): DeviceLogEntry | undefined {
    return this.entries().find((e) => e.eui64 === eui64);
  }

  has(eui64: string): boolean {
    return this.get(eui64) !== undefined;
  }

  /** Add (or replace) an entry. Throws DeviceLogError on bad input; nothing changes then. */
  add(input: { eui64: string; deviceType: string; installCode: string | Uint8Array }): DeviceLogEntry {
    const eui64 = typeof input.eui64 === 'string' ? input.eui64.toLowerCase() : '';
    if (!isEui64(eui64))
      throw this.refuse('DEVICE_LOG_BAD_EUI64', `not an EUI64: ${String(input.eui64)}`, 'add');
    if (!(LOGGABLE_TYPES as readonly string[]).includes(input.deviceType))
      throw this.refuse(
        'DEVICE_LOG_BAD_TYPE',
        `device type ${String(input.deviceType)} cannot be logged`,
        'add',
        eui64,
      );
    let code: Uint8Array;
    try {
      code = validateInstallCode(input.installCode);
    } catch (e) {
      throw this.refuse('DEVICE_LOG_BAD_INSTALL_CODE', `install code: ${(e as Error).message}`, 'add', eui64);
    }
    const list = this.entries().filter((e) => e.eui64 !== eui64);
    if (list.length >= (this.o.capacity ?? 16))
      throw this.refuse('DEVICE_LOG_FULL', 'the Device Log is full', 'add', eui64);
    const entry: DeviceLogEntry = {
      eui64,
      deviceType: input.deviceType as LoggableType,
      installCode: toHex(code),
      commissioned: false,
    };
    this.o.nvm.commit({ [NV_KEY]: [...list, entry] });
    this.o.trace({ type: 'device-log', op: 'add', eui64, deviceType: entry.deviceType });
    this.o.securityLog('device-log-add', { eui64, deviceType: entry.deviceType });
    return entry;
  }

  /** Remove an entry; throws DEVICE_LOG_NOT_FOUND when it is not there. */
  remove(eui64: string): DeviceLogEntry {
    const eui = typeof eui64 === 'string' ? eui64.toLowerCase() : '';
    const list = this.entries();
    const entry = list.find((e) => e.eui64 === eui);
    if (!entry)
      throw this.refuse('DEVICE_LOG_NOT_FOUND', `${String(eui64)} is not in the Device Log`, 'remove', eui);
    this.o.nvm.commit({ [NV_KEY]: list.filter((e) => e.eui64 !== eui) });
    this.o.trace({ type: 'device-log', op: 'remove', eui64: eui, deviceType: entry.deviceType });
    this.o.securityLog('device-log-remove', { eui64: eui, deviceType: entry.deviceType });
    return entry;
  }

  /** CBKE with the device completed. */
  markCommissioned(eui64: string): void {
    const list = this.entries();
    const e = list.find((x) => x.eui64 === eui64);
    if (!e || e.commissioned) return;
    e.commissioned = true;
    this.o.nvm.commit({ [NV_KEY]: list });
    this.o.trace({ type: 'device-log', op: 'commissioned', eui64, deviceType: e.deviceType });
  }

  /**
   * The stack's admission policy: the install-code link key of a logged device, or null.
   * The stack's trust centre traces and security-logs its own refusals (`join-refused`), so
   * this only adds the Device Log's view to the trace.
   */
  readonly admission = (eui64: string): { linkKey: Uint8Array } | null => {
    const e = this.get(eui64);
    if (!e) {
      this.o.trace({ type: 'device-log-refused', eui64, reason: 'not-in-device-log' });
      return null;
    }
    return { linkKey: installCodeLinkKey(e.installCode) };
  };

  /**
   * Application-level check for any frame or CBKE from `eui64`: null when logged, else the
   * reason - traced and security-logged (GBCS: the CHF refuses devices not in its log).
   */
  check(eui64: string, what: string): string | null {
    if (this.has(eui64)) return null;
    this.o.trace({ type: 'device-log-refused', eui64, reason: 'not-in-device-log', what });
    this.o.securityLog('refused-not-in-device-log', { eui64, what });
    return 'not-in-device-log';
  }

  private refuse(
    code: DeviceLogErrorCode,
    message: string,
    op: 'add' | 'remove',
    eui64?: string,
  ): DeviceLogError {
    this.o.trace({ type: 'device-log-error', op, code, message, ...(eui64 ? { eui64 } : {}) });
    return new DeviceLogError(code, message);
  }
}
