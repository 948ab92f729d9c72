/**
 * Pairing over Inter-PAN (GB HHT flow, protocol-notes §4; SECMP0037's local PPMID pairing):
 * the device that is not yet in the CHF Device Log scans, runs Key Establishment over
 * Inter-PAN with the chosen Communications Hub (the CH responds), then hands over its install
 * code and entity identifier in a command secured with the CBKE link key; the CH adds it to
 * the Device Log and answers; the device then joins the SMHAN normally.
 *
 * Shared by the HHT and the PPMID acting as an HHT (device packages never import each other)
 * and, for the codec, by the CH.
 *
 * ASSUMPTION (protocol-notes §4 "which ZCL command carries the install code is assumed"):
 * the hand-over is a manufacturer-specific cluster-specific command 0x00 (ZCL frame control
 * 0x15, manufacturer code `HANDOVER_MANUFACTURER_CODE`) of the manufacturer-specific cluster
 * `HANDOVER_CLUSTER` (0xFC60), client to server, payload
 * `entity identifier (EUI64, 8 octets little-endian) | device type (u8: 0 HHT, 1 PPMID) |
 * install code length (u8) | install code with its CRC`, APS-secured over Inter-PAN with the
 * CBKE key; the answer is command 0x00 server to client with one status octet
 * (`HandoverStatus`).
 */
import type { Timer } from '@gbhan/clock';
import type { Beacon, ChannelSpec, IncomingZcl, ZigbeeNode } from '@gbhan/stack';
import {
  decodeZclHeader,
  encodeZclHeader,
  eui64FromLittleEndian,
  eui64ToLittleEndian,
  fromHex,
  toHex,
} from '@gbhan/zigbee';
import { type CbkeConfig, CbkeService } from './cbke-service.js';
import { traceApp } from './trace-events.js';
import { describeDecodeError, sendInterPanTraced, traceDrop } from './zcl-helpers.js';

/** Manufacturer-specific cluster of the install-code hand-over (ASSUMPTION, see above). */
export const HANDOVER_CLUSTER = 0xfc60;
/**
 * Manufacturer code carried by the hand-over commands. ASSUMPTION: no public GB document names
 * the command or its code; 0x1234 is a placeholder of gbhan's (change it here to match a real
 * HHT), sent in the ZCL manufacturer-specific form so Wireshark shows what it is.
 */
export const HANDOVER_MANUFACTURER_CODE = 0x1234;
export const HANDOVER_DEVICE_TYPES = ['HHT', 'PPMID'] as const;
export type HandoverDeviceType = (typeof HANDOVER_DEVICE_TYPES)[number];

export const HandoverStatus = {
  Success: 0x00,
  /** The Device Log refused the entry (full, bad install code, ...). */
  Refused: 0x01,
  /** The entity identifier is not the sender's EUI64 / CBKE peer. */
  WrongEntity: 0x02,
} as const;

export interface Handover {
  tsn: number;
  entityId: string;
  deviceType: HandoverDeviceType;
  installCode: string;
}

export class HandoverDecodeError extends Error {
  override readonly name = 'HandoverDecodeError';
}

export function encodeHandover(h: Handover): Uint8Array {
  const code = fromHex(h.installCode);
  const header = encodeZclHeader({
    frameType: 'cluster',
    direction: 'clientToServer',
    disableDefaultResponse: true,
    manufacturerCode: HANDOVER_MANUFACTURER_CODE,
    transactionSequenceNumber: h.tsn & 0xff,
    commandId: 0x00,
  });
  const out = new Uint8Array(header.length + 8 + 2 + code.length);
  out.set(header);
  out.set(eui64ToLittleEndian(h.entityId), header.length);
  out[header.length + 8] = HANDOVER_DEVICE_TYPES.indexOf(h.deviceType);
  out[header.length + 9] = code.length;
  out.set(code, header.length + 10);
  return out;
}

/** Throws `HandoverDecodeError` on anything but a well-formed hand-over request. */
export function decodeHandover(zcl: Uint8Array): Handover {
  let header: ReturnType<typeof decodeZclHeader>['header'];
  let length: number;
  try {
    ({ header, length } = decodeZclHeader(zcl));
  } catch (e) {
    throw new HandoverDecodeError(describeDecodeError(e));
  }
  if (
    header.frameType !== 'cluster' ||
    header.direction !== 'clientToServer' ||
    header.commandId !== 0 ||
    header.manufacturerCode !== HANDOVER_MANUFACTURER_CODE
  )
    throw new HandoverDecodeError('not a hand-over request');
  const p = zcl.subarray(length);
  if (p.length < 10) throw new HandoverDecodeError(`payload of ${p.length} octets, need at least 10`);
  const type = HANDOVER_DEVICE_TYPES[p[8]!];
  if (type === undefined) throw new HandoverDecodeError(`unknown device type ${p[8]}`);
  const n = p[9]!;
  if (p.length !== 10 + n) throw new HandoverDecodeError(`install code length ${n}, have ${p.length - 10}`);
  return {
    tsn: header.transactionSequenceNumber,
    entityId: eui64FromLittleEndian(p.subarray(0, 8)),
    deviceType: type,
    installCode: toHex(p.subarray(10)),
  };
}

export function encodeHandoverResponse(tsn: number, status: number): Uint8Array {
  const header = encodeZclHeader({
    frameType: 'cluster',
    direction: 'serverToClient',
    disableDefaultResponse: true,
    manufacturerCode: HANDOVER_MANUFACTURER_CODE,
    transactionSequenceNumber: tsn & 0xff,
    commandId: 0x00,
  });
  return Uint8Array.of(...header, status & 0xff);
}

/** The status of a hand-over response, or null when `zcl` is not one. */
export function decodeHandoverResponse(zcl: Uint8Array): { tsn: number; status: number } | null {
  try {
    const { header, length } = decodeZclHeader(zcl);
    if (
      header.direction !== 'serverToClient' ||
      header.commandId !== 0 ||
      header.manufacturerCode !== HANDOVER_MANUFACTURER_CODE ||
      zcl.length !== length + 1
    )
      return null;
    return { tsn: header.transactionSequenceNumber, status: zcl[length]! };
  } catch {
    return null;
  }
}

export interface InterPanPairingOptions {
  node: ZigbeeNode;
  cbke: CbkeConfig;
  deviceType: HandoverDeviceType;
  /** This device's install code with CRC (hex). */
  installCode: string;
  /** Channels scanned (2.4 GHz and/or GB868 pages the radio can tune). */
  scanChannels: readonly ChannelSpec[];
  /** The CH to pair with (its EUI64 = EPID); default the coordinator heard with the best LQI. */
  chEui64?: string;
  /** Key Establishment attempts (a Terminate's wait time is kept between them; default 3). */
  cbkeAttempts?: number;
  /** Wait for the hand-over response (default 5 s). */
  handoverTimeoutUs?: number;
}

export type PairingResult =
  | { ok: true; ch: string; panId: number; page: number; channel: number }
  | {
      ok: false;
      reason: 'no-hub' | 'cbke-failed' | 'handover-timeout' | 'handover-refused' | 'powered-off' | 'busy';
      detail?: string;
    };

/** A hub seen by scanning: the coordinator's beacon (EPID = the CH's EUI64). */
export interface HubSeen {
  epid: string;
  panId: number;
  page: number;
  channel: number;
  lqi: number;
  permitJoin: boolean;
}

export function hubsFromBeacons(beacons: readonly Beacon[]): HubSeen[] {
  const hubs = new Map<string, HubSeen>();
  for (const b of beacons) {
    if (b.short !== 0) continue;
    const h = {
      epid: b.extendedPanId,
      panId: b.pan,
      page: b.page,
      channel: b.channel,
      lqi: b.lqi,
      permitJoin: b.permit,
    };
    const old = hubs.get(h.epid);
    if (old === undefined || h.lqi > old.lqi) hubs.set(h.epid, h);
  }
  return [...hubs.values()].sort((a, b) => b.lqi - a.lqi || (a.epid < b.epid ? -1 : 1));
}

// ASSUMPTION: the HHT waits at most this long for one Key Establishment exchange to finish
// (advertised generate times 10 s + 15 s, plus margins).
const CBKE_DEADLINE_US = 60_000_000;

export class InterPanPairing {
  readonly cbke: CbkeService;
  private busy = false;
  private stopped = false;
  private cbkeWaiter: ((r: { ok: boolean; reason?: string; waitTime?: number }) => void) | null = null;
  private handoverWaiter: ((status: number) => void) | null = null;
  private tsn = 0;

  constructor(private readonly o: InterPanPairingOptions) {
    this.cbke = new CbkeService({
      host: o.node,
      config: o.cbke,
      interPan: true,
      acceptInterPanInitiator: () => 'not-a-responder',
      onResult: (_peer, role, r) => {
        if (role !== 'initiator') return;
        this.cbkeWaiter?.(
          r.ok
            ? { ok: true }
            : { ok: false, reason: r.reason, ...(r.waitTime !== undefined ? { waitTime: r.waitTime } : {}) },
        );
      },
    });
  }

  /** Feed Inter-PAN frames; true when consumed. */
  handle(msg: IncomingZcl): boolean {
    if (!msg.interPan || this.stopped) return false;
    if (this.cbke.handle(msg)) return true;
    if (msg.clusterId !== HANDOVER_CLUSTER) return false;
    const r = decodeHandoverResponse(msg.zcl);
    if (r === null || msg.security !== 'aps-link' || this.handoverWaiter === null) {
      traceDrop(this.o.node, msg, 'unexpected-handover-frame');
      return true;
    }
    this.handoverWaiter(r.status);
    return true;
  }

  stop(): void {
    this.stopped = true;
    this.cbke.stop();
    this.cbkeWaiter?.({ ok: false, reason: 'stopped' });
    this.handoverWaiter?.(-1);
  }

  /** Scan, Inter-PAN CBKE with the chosen CH, install-code hand-over. */
  async pair(): Promise<PairingResult> {
    if (this.busy) return { ok: false, reason: 'busy' };
    this.busy = true;
    try {
      return await this.run();
    } finally {
      this.busy = false;
    }
  }

  /**
   * Scan and list the hubs heard (traced `interpan-scan`). ASSUMPTION: like a join, up to 3
   * rounds until a hub (the configured one, if any) is heard: beacons of a CH and its routers
   * answering the same Beacon Request can collide.
   */
  async scan(): Promise<HubSeen[]> {
    const node = this.o.node;
    const beacons: Beacon[] = [];
    const wanted = (hs: HubSeen[]) =>
      this.o.chEui64 === undefined ? hs.length > 0 : hs.some((h) => h.epid === this.o.chEui64);
    for (let round = 0; round < 3 && !wanted(hubsFromBeacons(beacons)) && !this.stopped; round++)
      beacons.push(...(await node.activeScan(this.o.scanChannels)));
    const hubs = hubsFromBeacons(beacons);
    traceApp(node, { type: 'interpan-scan', hubs });
    return hubs;
  }

  private async run(): Promise<PairingResult> {
    const node = this.o.node;
    const hubs = await this.scan();
    if (this.stopped) return { ok: false, reason: 'powered-off' };
    const hub = this.o.chEui64 === undefined ? hubs[0] : hubs.find((h) => h.epid === this.o.chEui64);
    if (hub === undefined) {
      traceApp(node, { type: 'interpan-pairing', result: 'no-hub' });
      return { ok: false, reason: 'no-hub' };
    }
    node.tune(hub.page, hub.channel);
    const attempts = this.o.cbkeAttempts ?? 3;
    let last: { ok: boolean; reason?: string; waitTime?: number } = { ok: false };
    for (let i = 0; i < attempts && !last.ok; i++) {
      if (i > 0) {
        // Back off for the Terminate's wait time (at least 1 s) before trying again.
        await this.sleep(Math.max(1, last.waitTime ?? 1) * 1_000_000);
        if (this.stopped) return { ok: false, reason: 'powered-off' };
      }
      last = await this.keyEstablishment(hub);
      if (this.stopped) return { ok: false, reason: 'powered-off' };
    }
    if (!last.ok) {
      traceApp(node, {
        type: 'interpan-pairing',
        result: 'cbke-failed',
        ch: hub.epid,
        detail: last.reason ?? '',
      });
      return { ok: false, reason: 'cbke-failed', detail: last.reason ?? '' };
    }
    const status = await this.handover(hub);
    if (status === null) {
      traceApp(node, { type: 'interpan-pairing', result: 'handover-timeout', ch: hub.epid });
      return { ok: false, reason: 'handover-timeout' };
    }
    if (status !== HandoverStatus.Success) {
      traceApp(node, { type: 'interpan-pairing', result: 'handover-refused', ch: hub.epid, status });
      return { ok: false, reason: 'handover-refused', detail: `status ${status}` };
    }
    traceApp(node, { type: 'interpan-pairing', result: 'paired', ch: hub.epid, panId: hub.panId });
    return { ok: true, ch: hub.epid, panId: hub.panId, page: hub.page, channel: hub.channel };
  }

  private keyEstablishment(hub: HubSeen): Promise<{ ok: boolean; reason?: string; waitTime?: number }> {
    return new Promise((resolve) => {
      const timer = this.o.node.clock.setTimer(CBKE_DEADLINE_US, () =>
        done({ ok: false, reason: 'deadline' }),
      );
      const done = (r: { ok: boolean; reason?: string; waitTime?: number }) => {
        timer.cancel();
        this.cbkeWaiter = null;
        resolve(r);
      };
      this.cbkeWaiter = done;
      this.cbke.startInterPan(hub.epid, hub.panId);
    });
  }

  private handover(hub: HubSeen): Promise<number | null> {
    const node = this.o.node;
    this.tsn = (this.tsn + 1) & 0xff;
    const zcl = encodeHandover({
      tsn: this.tsn,
      entityId: node.eui64,
      deviceType: this.o.deviceType,
      installCode: this.o.installCode,
    });
    return new Promise((resolve) => {
      let timer: Timer | null = null;
      const done = (s: number | null) => {
        timer?.cancel();
        this.handoverWaiter = null;
        resolve(s !== null && s < 0 ? null : s);
      };
      this.handoverWaiter = done;
      timer = node.clock.setTimer(this.o.handoverTimeoutUs ?? 5_000_000, () => done(null));
      traceApp(node, { type: 'interpan-handover-sent', ch: hub.epid, deviceType: this.o.deviceType });
      void sendInterPanTraced(
        node,
        { eui64: hub.epid, panId: hub.panId },
        { clusterId: HANDOVER_CLUSTER, zcl, security: 'aps-link' },
        'interpan-handover',
      );
    });
  }

  private sleep(us: number): Promise<void> {
    return new Promise((resolve) => this.o.node.clock.setTimer(us, resolve));
  }
}
