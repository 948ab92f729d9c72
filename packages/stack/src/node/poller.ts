/**
 * A sleepy end device's data polls (802.15.4 §7.5.6.3): its receiver is off,
 * so it fetches what its parent holds with a MAC Data Request every poll period, and every
 * 250 ms ("fast poll") while an answer is due. Every call is a no-op on a device whose
 * receiver is on when idle.
 */
import type { MacAddress, MacFrame } from '@gbhan/zigbee';
import type { NodeContext } from './context.js';
import { macCommand } from './nwk.js';
import type { NodeState } from './state.js';

/** ASSUMPTION: how long a sleepy device keeps its receiver on after a poll with Frame Pending. */
export const POLL_WINDOW_US = 50_000;
/** ASSUMPTION: poll period while joining or rejoining (ZigBee "fast poll"). */
export const FAST_POLL_US = 250_000;

/** MAC Data Request to the parent (§7.3.4). */
export function dataRequest(pan: number, parent: number, source: MacAddress): MacFrame {
  return macCommand(pan, parent, source, { id: 'dataRequest' });
}

export class Poller {
  constructor(private readonly ctx: NodeContext) {}

  /** Sleepy device: poll the parent every period (fast while joining or awaiting a reply). */
  schedule(ram: NodeState, firstUs: number): void {
    const ctx = this.ctx;
    const at = ctx.clock.now() + firstUs;
    if (ram.pollTimer?.active) {
      if (ram.pollTimer.at <= at) return;
      ram.pollTimer.cancel(); // a sooner poll is wanted (fast poll started)
    }
    const tick = () => {
      ram.pollTimer = null;
      if (ctx.state !== ram || !ctx.powered) return;
      const net = ram.net;
      const fast = this.pollingFast(ram);
      if (!net || net.parentShort === null || (!ram.joined && !fast)) return;
      void this.poll(ram);
      ram.pollTimer = ctx.mac.timer(fast ? FAST_POLL_US : (ctx.config.pollPeriodUs ?? 1_000_000), tick);
    };
    ram.pollTimer = ctx.mac.timer(firstUs, tick);
  }

  /** Sleepy device: make the next poll a fast one. */
  soon(ram: NodeState): void {
    if (!this.ctx.mac.rxOnWhenIdle && ram.net) this.schedule(ram, FAST_POLL_US);
  }

  /**
   * ZigBee "fast poll": while joining, resolving an address, waiting for an APS ack, or after
   * sending a frame whose reply is expected (`OutgoingZcl.awaitReplyUs`), a sleepy device polls
   * every 250 ms instead of its poll period.
   */
  private pollingFast(ram: NodeState): boolean {
    if (ram.fastPoll || ram.fastPollHolds > 0) return true;
    const now = this.ctx.clock.now();
    for (const [peer, until] of ram.awaitingReply) {
      if (until > now) return true;
      ram.awaitingReply.delete(peer);
    }
    return false;
  }

  private async poll(ram: NodeState): Promise<void> {
    const net = ram.net;
    if (!net || net.parentShort === null) return;
    const mac = this.ctx.mac;
    const release = mac.stayAwake();
    const r = await mac.send(dataRequest(net.panId, net.parentShort, net.short));
    if (r.status === 'sent' && r.ack?.framePending) await mac.sleep(POLL_WINDOW_US);
    release();
  }
}
