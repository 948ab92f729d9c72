/**
 * The bus's trace: every transmission, delivery, drop and radio state change as a typed
 * event with its virtual time. Assertions and reports read this, not the bus's internals.
 */
import type { Band } from './phy.js';
import type { BusErrorCode, DutyCycleStateName } from './protocol.js';

export type DropReason =
  | 'out-of-range'
  | 'wrong-channel'
  | 'collision'
  | 'loss'
  | 'jammed'
  | 'duty-cycle'
  | 'receiver-busy'
  | 'receiver-off';

export type BusTraceEvent =
  | {
      t: number;
      type: 'attach';
      radio: string;
      name?: string;
      band: Band;
      page: number;
      channel: number;
      position: { x: number; y: number; z?: number };
    }
  | { t: number; type: 'detach'; radio: string; reason: string }
  | {
      t: number;
      type: 'tx';
      radio: string;
      frame: number;
      band: Band;
      page: number;
      channel: number;
      bytes: number;
      airtimeUs: number;
      psdu: string;
    }
  | { t: number; type: 'rx'; radio: string; from: string; frame: number; rssi: number; lqi: number }
  | { t: number; type: 'drop'; radio: string | null; from: string; frame: number | null; reason: DropReason }
  | { t: number; type: 'channel'; radio: string; page: number; channel: number; band?: Band }
  | { t: number; type: 'power'; radio: string; on: boolean }
  | { t: number; type: 'duty-cycle'; radio: string; state: DutyCycleStateName; percent: number }
  | { t: number; type: 'jam'; page: number; channel: number; band: Band; on: boolean; jammer: number }
  | { t: number; type: 'error'; radio: string | null; code: BusErrorCode; message: string }
  /** Reported by the device itself (joins, keys, logs, ...); the bus adds time and radio. */
  | { t: number; type: 'device'; radio: string; event: Record<string, unknown> }
  /** A command the run's controller (e.g. a scenario timeline) sent to a radio's device. */
  | { t: number; type: 'control'; radio: string; command: Record<string, unknown>; delivered: boolean };

export type TraceListener = (event: BusTraceEvent) => void;
