/**
 * The Metering cluster 0x0702 server's register (SE 1.4 07-5356 D.3): a consumption register
 * that advances with virtual time at a configured rate (electricity: load in W, register in
 * Wh; gas: flow in litres per hour, register in litres). Values are computed from the clock
 * when read, so no timer ticks just to move the register.
 *
 * The register lives in NVM. ASSUMPTION: a meter saves its registers when power fails (hold-up
 * capacitor), so the device's power-off calls `checkpoint()`; consumption while the meter is
 * off is not metered.
 */
import type { Clock } from '@gbhan/clock';
import { ZclStatus } from '@gbhan/runtime';
import type { NvStore } from '@gbhan/stack';
import type { ReadAttributeRecord } from '@gbhan/zigbee';

export const METERING_CLUSTER = 0x0702;

/** Metering attribute ids (SE 1.4 D.3.2.2). */
export const MeteringAttr = {
  CurrentSummationDelivered: 0x0000,
  Status: 0x0200,
  UnitOfMeasure: 0x0300,
  Multiplier: 0x0301,
  Divisor: 0x0302,
  SummationFormatting: 0x0303,
  MeteringDeviceType: 0x0306,
  InstantaneousDemand: 0x0400,
} as const;

/** ZCL data types (ZCL r8 Table 2-10). */
const T = { BITMAP8: 0x18, UINT24: 0x22, UINT48: 0x25, INT24: 0x2a, ENUM8: 0x30 } as const;

export type MeterKind = 'electricity' | 'gas';

export interface MeteringConfig {
  kind: MeterKind;
  /** Register at first power-on: Wh (electricity) or litres (gas). */
  initialSummation?: number;
  /** Electricity: load in W. Gas: flow in litres per hour. */
  rate: number;
}

export interface MeteringState {
  /** Register value at `sinceUs` (fractional: the displayed value is floored). */
  summation: number;
  rate: number;
}

const US_PER_HOUR = 3_600_000_000;

export class MeteringRegister {
  private base: number;
  private sinceUs: number;
  private rateNow: number;

  constructor(
    private readonly clock: Clock,
    private readonly nvm: NvStore,
    readonly kind: MeterKind,
    config: MeteringConfig,
    private readonly nvmKey = `meter.metering`,
  ) {
    const saved = nvm.read<{ summation: number; rate: number }>(nvmKey);
    this.base = saved?.summation ?? config.initialSummation ?? 0;
    this.rateNow = saved?.rate ?? config.rate;
    if (!Number.isFinite(this.base) || this.base < 0) this.base = 0;
    if (!Number.isFinite(this.rateNow) || this.rateNow < 0) this.rateNow = 0;
    this.sinceUs = clock.now();
  }

  /** Register value now, with its fraction (Wh or litres). */
  exact(): number {
    return this.base + (this.rateNow * (this.clock.now() - this.sinceUs)) / US_PER_HOUR;
  }

  /** CurrentSummationDelivered: whole Wh (electricity) or litres (gas). */
  summation(): number {
    return Math.floor(this.exact());
  }

  /** Load in W (electricity) or flow in l/h (gas). */
  get rate(): number {
    return this.rateNow;
  }

  /** Change the load / flow from now on (a scenario's "kettle on"). */
  setRate(rate: number): void {
    if (!Number.isFinite(rate) || rate < 0) throw new RangeError(`rate must be >= 0, got ${rate}`);
    this.base = this.exact();
    this.sinceUs = this.clock.now();
    this.rateNow = rate;
    this.checkpoint();
  }

  /** Save the register to NVM (power fail). */
  checkpoint(): void {
    this.base = this.exact();
    this.sinceUs = this.clock.now();
    this.nvm.commit({ [this.nvmKey]: { summation: this.base, rate: this.rateNow } });
  }

  /** Read Attributes records (ZCL §2.5.2); unknown ids get UNSUPPORTED_ATTRIBUTE. */
  readAttributes(ids: readonly number[]): ReadAttributeRecord[] {
    const gas = this.kind === 'gas';
    return ids.map((attrId): ReadAttributeRecord => {
      switch (attrId) {
        case MeteringAttr.CurrentSummationDelivered:
          return { attrId, status: 0, dataType: T.UINT48, attrData: this.summation() };
        case MeteringAttr.Status:
          return { attrId, status: 0, dataType: T.BITMAP8, attrData: 0 };
        case MeteringAttr.UnitOfMeasure:
          // D.3.2.2.4.1: 0x00 kWh (binary), 0x01 m3.
          return { attrId, status: 0, dataType: T.ENUM8, attrData: gas ? 0x01 : 0x00 };
        case MeteringAttr.Multiplier:
          return { attrId, status: 0, dataType: T.UINT24, attrData: 1 };
        case MeteringAttr.Divisor:
          // Register in Wh / litres, unit kWh / m3.
          return { attrId, status: 0, dataType: T.UINT24, attrData: 1000 };
        case MeteringAttr.SummationFormatting:
          // 3 digits after the point, 6 before (bits 2..0 right, 6..3 left).
          return { attrId, status: 0, dataType: T.BITMAP8, attrData: (6 << 3) | 3 };
        case MeteringAttr.MeteringDeviceType:
          // D.3.2.2.4.7: 0 Electric Metering, 2 Gas Metering.
          return { attrId, status: 0, dataType: T.BITMAP8, attrData: gas ? 2 : 0 };
        case MeteringAttr.InstantaneousDemand:
          if (gas) return { attrId, status: ZclStatus.UNSUPPORTED_ATTRIBUTE };
          // W with the same formatting as the register (kW, divisor 1000); int24.
          return {
            attrId,
            status: 0,
            dataType: T.INT24,
            attrData: Math.min(Math.round(this.rateNow), 0x7fffff),
          };
        default:
          return { attrId, status: ZclStatus.UNSUPPORTED_ATTRIBUTE };
      }
    });
  }
}
