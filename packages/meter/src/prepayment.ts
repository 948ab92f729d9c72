/**
 * Prepayment state of an ESME in prepayment mode (SE 1.4 07-5356 D.7): credit that the
 * metered consumption uses up over virtual time, emergency credit the consumer selects when
 * credit runs low, top-ups entered as UTRN-like codes, and the top-up log. Pure state with a
 * clock: the Prepayment cluster 0x0705 glue (frames in, frames out) is in `esme.ts`.
 *
 * Money is in pence. ASSUMPTION: GB prepayment values are carried as pence (currency 826,
 * two trailing digits); the public specs leave the unit to the Price cluster's formatting.
 * The exhaustion instant is predicted from the load and a timer set for it, so credit runs
 * out at the right virtual time without ticking.
 */
import type { Clock, Timer } from '@gbhan/clock';
import { ZclStatus, zclUtcNow } from '@gbhan/runtime';
import type { NvStore } from '@gbhan/stack';
import type { ReadAttributeRecord, TopUpRecord } from '@gbhan/zigbee';
import type { MeteringRegister } from './metering.js';
import type { MeterTraceEvent } from './trace-events.js';

export const PREPAYMENT_CLUSTER = 0x0705;

/** Consumer Top Up Response ResultType (SE 1.4 D.7.2.4.2, Table D-143). */
export const TopUpResult = {
  Accepted: 0x00,
  RejectedInvalid: 0x01,
  RejectedDuplicate: 0x02,
  RejectedError: 0x03,
  RejectedMaxCreditReached: 0x04,
  RejectedValueTooLarge: 0x06,
} as const;

/** OriginatingDevice (D.7.2.3.1): 0 ESI, 1 meter, 2 in-home display (the PPMID). */
export const OriginatingDevice = { Esi: 0, Meter: 1, Ihd: 2 } as const;

/** CreditStatus bits (D.7.2.2.1.4). */
export const CreditStatus = {
  CreditOk: 0x01,
  LowCredit: 0x02,
  EmergencyCreditEnabled: 0x04,
  EmergencyCreditAvailable: 0x08,
  EmergencyCreditSelected: 0x10,
  EmergencyCreditInUse: 0x20,
  CreditExhausted: 0x40,
} as const;

export interface PrepaymentConfig {
  /** Credit at first power-on, pence (default 1000). */
  initialCredit?: number;
  /** Unit rate, pence per kWh (default 25). */
  pricePerKwh?: number;
  /** Emergency credit granted when selected, pence (default 500). */
  emergencyCreditLimit?: number;
  /** Emergency credit can be selected below this credit, pence (default 100). */
  emergencyCreditThreshold?: number;
  /** Low Credit below this, pence (default 200). */
  lowCreditThreshold?: number;
  /** A top-up that would take credit above this is refused, pence (default 100000 = £1000). */
  maxCredit?: number;
}

type LoggedTopUp = {
  code: string;
  amount: number;
  /** ZCL UTC seconds. */
  time: number;
};

type PrepaymentNv = {
  credit: number;
  ecActive: boolean;
  ecUsed: number;
  settled: number;
  supply: boolean;
  log: LoggedTopUp[];
  used: string[];
};

export interface TopUpOutcome {
  resultType: number;
  /** Pence credited (0 when rejected). */
  topUpValue: number;
  /** Credit after the top-up, pence. */
  creditRemaining: number;
  reason?: string;
}

// ASSUMPTION: an emulated UTRN is 20 decimal digits; the last 6 are the value in pence and the
// first 14 make it unique (real UTRNs are encrypted per meter, GBCS / Smart Metering
// Equipment Technical Specifications; that cryptography is out of scope).
const UTRN_RE = /^\d{20}$/;
/** GB keeps a bounded top-up log; 10 records is enough to show it. */
const TOP_UP_LOG_SIZE = 10;
const USED_UTRN_MEMORY = 200;
const EPSILON_PENCE = 1e-6;

export class Prepayment {
  private s: PrepaymentNv;
  private readonly cfg: Required<PrepaymentConfig>;
  private exhaustTimer: Timer | undefined;

  constructor(
    private readonly clock: Clock,
    private readonly nvm: NvStore,
    private readonly register: MeteringRegister,
    config: PrepaymentConfig,
    private readonly events: {
      trace: (e: MeterTraceEvent) => void;
      /** Supply interrupted (credit exhausted) or restored (top-up). */
      onSupply?: (on: boolean) => void;
    },
    private readonly nvmKey = 'meter.prepayment',
  ) {
    this.cfg = {
      initialCredit: config.initialCredit ?? 1000,
      pricePerKwh: config.pricePerKwh ?? 25,
      emergencyCreditLimit: config.emergencyCreditLimit ?? 500,
      emergencyCreditThreshold: config.emergencyCreditThreshold ?? 100,
      lowCreditThreshold: config.lowCreditThreshold ?? 200,
      maxCredit: config.maxCredit ?? 100_000,
    };
    const saved = nvm.read<PrepaymentNv>(nvmKey);
    this.s = saved ?? {
      credit: this.cfg.initialCredit,
      ecActive: false,
      ecUsed: 0,
      settled: register.exact(),
      supply: true,
      log: [],
      used: [],
    };
    // Consumption while this object did not exist (power off) was not metered.
    this.s.settled = Math.min(this.s.settled, register.exact());
    this.scheduleExhaustion();
  }

  /** Power off: the prediction timer is RAM. */
  stop(): void {
    this.exhaustTimer?.cancel();
    this.exhaustTimer = undefined;
  }

  /** Credit remaining, pence (floored). */
  get credit(): number {
    this.settle();
    return Math.floor(this.s.credit + EPSILON_PENCE);
  }

  get emergencyCreditRemaining(): number {
    this.settle();
    return Math.floor(this.cfg.emergencyCreditLimit - this.s.ecUsed + EPSILON_PENCE);
  }

  get emergencyCreditActive(): boolean {
    return this.s.ecActive;
  }

  get supplyOn(): boolean {
    return this.s.supply;
  }

  get creditStatus(): number {
    this.settle();
    let bits = CreditStatus.EmergencyCreditEnabled;
    const credit = this.s.credit;
    if (credit >= this.cfg.lowCreditThreshold) bits |= CreditStatus.CreditOk;
    else bits |= CreditStatus.LowCredit;
    if (!this.s.ecActive && credit < this.cfg.emergencyCreditThreshold)
      bits |= CreditStatus.EmergencyCreditAvailable;
    if (this.s.ecActive) bits |= CreditStatus.EmergencyCreditSelected;
    if (this.s.ecActive && this.s.ecUsed > 0) bits |= CreditStatus.EmergencyCreditInUse;
    if (!this.s.supply) bits |= CreditStatus.CreditExhausted;
    return bits;
  }

  /** The top-up log, newest first. */
  get topUpLog(): readonly LoggedTopUp[] {
    return this.s.log;
  }

  /** Charge the consumption since the last settlement. */
  settle(): void {
    const now = this.register.exact();
    const delta = now - this.s.settled;
    if (delta <= 0) return;
    this.s.settled = now;
    let cost = (delta / 1000) * this.cfg.pricePerKwh;
    const fromCredit = Math.min(this.s.credit, cost);
    this.s.credit -= fromCredit;
    cost -= fromCredit;
    if (cost > 0 && this.s.ecActive) {
      const take = Math.min(this.cfg.emergencyCreditLimit - this.s.ecUsed, cost);
      this.s.ecUsed += take;
      cost -= take;
    }
    if (this.s.supply && this.available() <= EPSILON_PENCE) {
      this.s.supply = false;
      this.events.trace({ type: 'credit-exhausted', emergencyCreditActive: this.s.ecActive });
      this.save();
      this.events.onSupply?.(false);
    }
  }

  /** Credit + emergency credit still usable, pence. */
  private available(): number {
    return this.s.credit + (this.s.ecActive ? this.cfg.emergencyCreditLimit - this.s.ecUsed : 0);
  }

  /** Re-plan the exhaustion timer after anything that changes credit or load. */
  scheduleExhaustion(): void {
    this.exhaustTimer?.cancel();
    this.exhaustTimer = undefined;
    this.settle();
    const pencePerHour = (this.register.rate / 1000) * this.cfg.pricePerKwh;
    if (!this.s.supply || pencePerHour <= 0) return;
    const hours = this.available() / pencePerHour;
    const delayUs = Math.ceil(hours * 3_600_000_000) + 1;
    this.exhaustTimer = this.clock.setTimer(delayUs, () => {
      this.exhaustTimer = undefined;
      this.settle();
      this.scheduleExhaustion();
    });
  }

  /** Select Available Emergency Credit (D.7.2.3.1): a ZCL status. */
  selectEmergencyCredit(): number {
    this.settle();
    if (this.s.ecActive) return ZclStatus.SUCCESS;
    if (this.s.credit >= this.cfg.emergencyCreditThreshold) {
      this.events.trace({ type: 'emergency-credit-refused', credit: Math.floor(this.s.credit) });
      return ZclStatus.FAILURE;
    }
    this.s.ecActive = true;
    this.s.ecUsed = 0;
    const restored = !this.s.supply;
    this.s.supply = true;
    this.save();
    this.events.trace({ type: 'emergency-credit-activated', amount: this.cfg.emergencyCreditLimit });
    if (restored) this.events.onSupply?.(true);
    this.scheduleExhaustion();
    return ZclStatus.SUCCESS;
  }

  /** Consumer Top Up (D.7.2.3.4) with a code entered on the PPMID or the meter. */
  consumerTopUp(codeBytes: Uint8Array, originatingDevice: number): TopUpOutcome {
    this.settle();
    const code = Buffer.from(codeBytes).toString('latin1');
    const reject = (resultType: number, reason: string): TopUpOutcome => {
      this.events.trace({ type: 'top-up-rejected', code, reason, originatingDevice });
      return { resultType, topUpValue: 0, creditRemaining: Math.floor(this.s.credit), reason };
    };
    if (!UTRN_RE.test(code)) return reject(TopUpResult.RejectedInvalid, 'not a 20-digit UTRN');
    if (this.s.used.includes(code)) return reject(TopUpResult.RejectedDuplicate, 'UTRN already used');
    const amount = Number(code.slice(14));
    if (amount === 0) return reject(TopUpResult.RejectedInvalid, 'zero value');
    if (this.s.credit + amount > this.cfg.maxCredit)
      return reject(TopUpResult.RejectedMaxCreditReached, 'credit would exceed the maximum');
    // Emergency credit used is repaid first (GB prepayment practice), the rest is credit.
    let rest = amount;
    if (this.s.ecActive) {
      const repay = Math.min(this.s.ecUsed, rest);
      this.s.ecUsed -= repay;
      rest -= repay;
      if (this.s.ecUsed <= EPSILON_PENCE) {
        this.s.ecActive = false;
        this.s.ecUsed = 0;
      }
    }
    this.s.credit += rest;
    this.s.used = [...this.s.used, code].slice(-USED_UTRN_MEMORY);
    this.s.log = [{ code, amount, time: zclUtcNow(this.clock.now()) }, ...this.s.log].slice(
      0,
      TOP_UP_LOG_SIZE,
    );
    const restored = !this.s.supply && this.available() > EPSILON_PENCE;
    if (restored) this.s.supply = true;
    this.save();
    this.events.trace({
      type: 'top-up-accepted',
      code,
      amount,
      credit: Math.floor(this.s.credit),
      originatingDevice,
    });
    if (restored) this.events.onSupply?.(true);
    this.scheduleExhaustion();
    return {
      resultType: TopUpResult.Accepted,
      topUpValue: amount,
      creditRemaining: Math.floor(this.s.credit),
    };
  }

  /** Get Top Up Log (D.7.2.3.6): records at or before `latestEndTime`, newest first. */
  topUpRecords(latestEndTime: number, numberOfRecords: number): TopUpRecord[] {
    // ASSUMPTION: numberOfRecords 0 means "all" (SE 1.4 is silent).
    const n = numberOfRecords === 0 ? TOP_UP_LOG_SIZE : numberOfRecords;
    return this.s.log
      .filter((r) => r.time <= latestEndTime)
      .slice(0, n)
      .map((r) => ({
        topUpCode: new Uint8Array(Buffer.from(r.code, 'latin1')),
        topUpAmount: r.amount,
        topUpTime: r.time,
      }));
  }

  readAttributes(ids: readonly number[]): ReadAttributeRecord[] {
    return ids.map((attrId): ReadAttributeRecord => {
      switch (attrId) {
        case 0x0000: // PaymentControlConfiguration: bit 1 credit management enabled (prepayment)
          return { attrId, status: 0, dataType: 0x19, attrData: 0x0002 };
        case 0x0001:
          return { attrId, status: 0, dataType: 0x2b, attrData: this.credit };
        case 0x0002:
          return { attrId, status: 0, dataType: 0x2b, attrData: this.emergencyCreditRemaining };
        case 0x0003:
          return { attrId, status: 0, dataType: 0x18, attrData: this.creditStatus };
        case 0x0004:
          return { attrId, status: 0, dataType: 0xe2, attrData: zclUtcNow(this.clock.now()) };
        case 0x0005:
          return { attrId, status: 0, dataType: 0x2b, attrData: 0 };
        default:
          return { attrId, status: ZclStatus.UNSUPPORTED_ATTRIBUTE };
      }
    });
  }

  /** Save to NVM (after every change of credit state, and at power fail). */
  save(): void {
    this.nvm.commit({
      [this.nvmKey]: { ...this.s, log: this.s.log.map((r) => ({ ...r })), used: [...this.s.used] },
    });
  }
}
