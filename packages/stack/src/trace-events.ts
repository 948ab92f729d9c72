/**
 * Every event the stack puts in the run's trace (with `radio.trace`, so the bus stamps it with
 * the virtual time and the radio). One discriminated union so the scenario runner and reports
 * can switch on `type` with the compiler's help. Applications add their own events through
 * `ApplicationHost.trace`.
 */

/** Why a frame was not accepted (layer-specific prefixes: mac-, nwk-, aps-, interpan-, zdo-). */
export type DropReason = string;

export type NwkStateName =
  | 'formed'
  | 'not-joined'
  | 'scanning'
  | 'associating'
  | 'awaiting-key'
  | 'rejoining'
  | 'joined';

type Detail = Record<string, string | number | boolean>;

export type StackTraceEvent =
  // node power and NWK state
  | { type: 'power'; on: boolean }
  | {
      type: 'nwk-state';
      state: NwkStateName;
      panId?: number;
      extendedPanId?: string;
      short?: number;
      channel?: number;
      page?: number;
    }
  | { type: 'formed'; panId: number; extendedPanId: string; channel: number; page: number }
  | { type: 'permit-join'; seconds: number }
  | { type: 'scan-done'; beacons: number; candidates: number }
  | { type: 'joined' | 'rejoined'; panId?: number; short?: number; parent?: string | null }
  | { type: 'join-failed'; reason: string; eui64?: string }
  | { type: 'join-refused'; eui64?: string; by?: string | number; reason?: string; status?: number | null }
  | { type: 'rejoin-failed'; status: number | null }
  | { type: 'leave-requested'; by: string | number }
  // coordinator / Trust Centre
  | { type: 'associated'; eui64: string; short: number; rxOnWhenIdle: boolean }
  | {
      type: 'transport-key';
      keyType: 'network';
      to?: string;
      from?: string;
      status?: string;
      keySequenceNumber?: number;
    }
  | { type: 'child-authenticated' | 'child-left' | 'child-removed'; eui64: string }
  | { type: 'rejoin-response'; to: string; short: number; status: number; delivery: string }
  | { type: 'device-announced'; eui64: string; short: number }
  | { type: 'address-resolved'; eui64: string; short: number | null }
  // keys
  | { type: 'link-key'; peer: string; origin: 'install-code' | 'cbke' | 'partner' }
  | { type: 'link-key-removed'; peer: string }
  | { type: 'partner-key'; requester: string; partner: string; status: 'sent' | 'refused' | 'received' }
  // frames
  | { type: 'frame-dropped'; layer: string; reason: DropReason; [field: string]: unknown }
  | { type: 'nwk-relayed'; to: string; status: string }
  | { type: 'nwk-command-ignored' | 'aps-command-ignored'; command: string }
  | { type: 'send-failed'; reason: 'no-address' | 'nvm'; to?: string; detail?: string }
  | { type: 'application-error'; detail: string }
  // APS fragmentation (05-3474 §2.2.8.4.5)
  | {
      type: 'aps-fragmented-send';
      to: string;
      counter: number;
      blocks: number;
      sentBlocks: number;
      octets: number;
      status: string;
    }
  | { type: 'aps-reassembled'; from: string; counter: number; octets: number }
  // MAC
  | { type: 'mac-no-ack'; seq: number; to: string }
  | { type: 'mac-channel-access-failure' }
  | { type: 'mac-indirect-expired'; to: string }
  | { type: 'mac-encode-failed'; error: string }
  // security log and alerts
  | { type: 'security-log'; event: string; detail?: Detail }
  | { type: 'alert'; code: number; codeHex: string; event: string }
  | { type: 'alert-sent'; code: number };
