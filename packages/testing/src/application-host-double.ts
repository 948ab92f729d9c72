/**
 * A recording `ApplicationHost` for unit tests of the device applications' state machines
 * alone (register and credit arithmetic, Default Response rules, tunnel retry timings, GPF
 * queue, refusal reasons, malformed input): no radio, no network - sends are recorded, frames
 * are handed in by the test, and time is a ManualClock the test moves by hours at a time.
 * The network adds nothing to what these tests prove. Anything that depends on frames
 * crossing the air (CBKE between devices, joins, tunnels end to end, sleepy polling) runs on
 * real `ZigbeeNode`s over the in-process bus instead (packages/comms-hub/test/
 * commissioning.test.ts, cbke-real-stack.test.ts). Imports @gbhan/stack: from `@gbhan/testing`,
 * for tests of stack and the packages above it.
 */
import { ManualClock } from '@gbhan/clock';
import {
  type ApplicationHost,
  type DeviceTraceEvent,
  type FrameSecurity,
  type IncomingZcl,
  MemoryNvStore,
  type OutgoingZcl,
  type PeerAddress,
  type SendResult,
} from '@gbhan/stack';

export interface Sent {
  to: PeerAddress;
  frame: OutgoingZcl;
}

export class HostDouble implements ApplicationHost {
  readonly nvm = new MemoryNvStore();
  joined = true;
  readonly traces: DeviceTraceEvent[] = [];
  readonly sent: Sent[] = [];
  readonly keys = new Map<string, { key: Uint8Array; origin: string }>();
  private handler: ((m: IncomingZcl) => void | Promise<void>) | undefined;
  sendStatus: SendResult['status'] = 'sent';

  constructor(
    readonly eui64: string,
    readonly clock: ManualClock = new ManualClock(),
  ) {}

  trace(event: DeviceTraceEvent): void {
    this.traces.push(event);
  }
  async sendZcl(to: PeerAddress, frame: OutgoingZcl): Promise<SendResult> {
    this.sent.push({ to, frame });
    return { status: this.sendStatus };
  }
  async sendInterPan(): Promise<SendResult> {
    return { status: 'radio-refused' };
  }
  onZcl(handler: (msg: IncomingZcl) => void | Promise<void>): void {
    this.handler = handler;
  }
  linkKey(peer: string): Uint8Array | null {
    return this.keys.get(peer)?.key ?? null;
  }
  setLinkKey(peer: string, key: Uint8Array, origin: 'install-code' | 'cbke' | 'partner'): void {
    this.keys.set(peer, { key: key.slice(), origin });
  }
  removeLinkKey(peer: string): void {
    this.keys.delete(peer);
  }

  /** A frame as it would arrive from `from`. */
  static incoming(
    from: string,
    clusterId: number,
    zcl: Uint8Array,
    security: FrameSecurity = 'aps-link',
  ): IncomingZcl {
    return {
      from: { eui64: from },
      srcEndpoint: 1,
      dstEndpoint: 1,
      clusterId,
      profileId: 0x0109,
      zcl,
      security,
      interPan: false,
      lqi: 255,
      rssi: -40,
    };
  }

  deliver(msg: IncomingZcl): void {
    void this.handler?.(msg);
  }

  /** Take what was sent so far. */
  take(): Sent[] {
    return this.sent.splice(0, this.sent.length);
  }

  tracesOf(type: string): DeviceTraceEvent[] {
    return this.traces.filter((t) => t.type === type);
  }
}
