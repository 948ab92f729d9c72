import { HOUR, ManualClock, MINUTE } from '@gbhan/clock';
import { MemoryNvStore } from '@gbhan/stack';
import { describe, expect, it } from 'vitest';
import { CreditStatus, MeteringAttr, MeteringRegister, Prepayment, TopUpResult } from '../src/index.js';

const enc = (s: string) => new TextEncoder().encode(s);

function setup(load = 1000, credit = 1000) {
  const clock = new ManualClock();
  const nvm = new MemoryNvStore();
  const traces: { type: string; [k: string]: unknown }[] = [];
  const register = new MeteringRegister(clock, nvm, 'electricity', { kind: 'electricity', rate: load });
  const supply: boolean[] = [];
  const pp = new Prepayment(
    clock,
    nvm,
    register,
    { initialCredit: credit, pricePerKwh: 25, emergencyCreditLimit: 500, emergencyCreditThreshold: 100 },
    {
      trace: (e) => traces.push(e),
      onSupply: (on) => {
        supply.push(on);
        register.setRate(on ? load : 0);
      },
    },
  );
  return { clock, nvm, register, pp, traces, supply };
}

describe('MeteringRegister', () => {
  it('advances with virtual time at the configured load and survives a power-fail save', () => {
    const { clock, nvm, register } = setup(2000);
    clock.advance(30 * MINUTE);
    expect(register.summation()).toBe(1000); // 2 kW for half an hour = 1000 Wh
    const rec = register.readAttributes([
      MeteringAttr.CurrentSummationDelivered,
      MeteringAttr.InstantaneousDemand,
      0x1234,
    ]);
    expect(rec[0]).toEqual({ attrId: 0, status: 0, dataType: 0x25, attrData: 1000 });
    expect(rec[1]).toMatchObject({ attrData: 2000, dataType: 0x2a });
    expect(rec[2]).toEqual({ attrId: 0x1234, status: 0x86 });
    register.setRate(0);
    clock.advance(HOUR);
    expect(register.summation()).toBe(1000);
    register.checkpoint();
    const again = new MeteringRegister(clock, nvm, 'electricity', { kind: 'electricity', rate: 99 });
    expect(again.summation()).toBe(1000);
    expect(again.rate).toBe(0);
    expect(() => again.setRate(-1)).toThrow(RangeError);
  });

  it('reports gas in litres with m3 units and no instantaneous demand', () => {
    const clock = new ManualClock();
    const gas = new MeteringRegister(clock, new MemoryNvStore(), 'gas', { kind: 'gas', rate: 120 });
    clock.advance(HOUR);
    const [s, unit, demand] = gas.readAttributes([
      0,
      MeteringAttr.UnitOfMeasure,
      MeteringAttr.InstantaneousDemand,
    ]);
    expect(s?.attrData).toBe(120);
    expect(unit?.attrData).toBe(1);
    expect(demand?.status).toBe(0x86);
  });
});

describe('Prepayment', () => {
  it('uses credit as energy is consumed', () => {
    const { clock, pp } = setup(1000, 1000);
    clock.advance(4 * HOUR); // 4 kWh at 25p = 100p
    expect(pp.credit).toBe(900);
    expect(pp.creditStatus & CreditStatus.CreditOk).toBeTruthy();
  });

  it('interrupts supply exactly when credit runs out, emergency credit restores it', () => {
    const { clock, pp, traces, supply, register } = setup(1000, 50); // 50p = 2 kWh = 2 h
    clock.advance(2 * HOUR + MINUTE);
    expect(supply).toEqual([false]);
    const ex = traces.find((t) => t.type === 'credit-exhausted');
    expect(ex).toBeDefined();
    expect(pp.credit).toBe(0);
    expect(register.rate).toBe(0);
    expect(pp.creditStatus & CreditStatus.CreditExhausted).toBeTruthy();
    expect(pp.creditStatus & CreditStatus.EmergencyCreditAvailable).toBeTruthy();
    expect(pp.selectEmergencyCredit()).toBe(0);
    expect(supply).toEqual([false, true]);
    clock.advance(4 * HOUR); // 100p of 500p emergency credit
    expect(pp.emergencyCreditRemaining).toBe(400);
    expect(pp.creditStatus & CreditStatus.EmergencyCreditInUse).toBeTruthy();
    // a top-up repays the emergency credit used first
    const out = pp.consumerTopUp(enc('12345678901234000500'), 2);
    expect(out).toMatchObject({ resultType: TopUpResult.Accepted, topUpValue: 500, creditRemaining: 400 });
    expect(pp.emergencyCreditActive).toBe(false);
  });

  it('refuses emergency credit while credit is above the threshold', () => {
    const { pp, traces } = setup();
    expect(pp.selectEmergencyCredit()).toBe(0x01);
    expect(traces.some((t) => t.type === 'emergency-credit-refused')).toBe(true);
  });

  it('accepts a UTRN once and rejects malformed, duplicate and oversized codes', () => {
    const { pp, clock } = setup(0, 1000);
    clock.advance(HOUR);
    expect(pp.consumerTopUp(enc('00000000000001001000'), 2)).toMatchObject({
      resultType: 0,
      topUpValue: 1000,
      creditRemaining: 2000,
    });
    expect(pp.consumerTopUp(enc('00000000000001001000'), 2).resultType).toBe(TopUpResult.RejectedDuplicate);
    expect(pp.consumerTopUp(enc('1234'), 2).resultType).toBe(TopUpResult.RejectedInvalid);
    expect(pp.consumerTopUp(enc('abcdefghijabcdefghij'), 2).resultType).toBe(TopUpResult.RejectedInvalid);
    expect(pp.consumerTopUp(Uint8Array.of(0xff, 0, 1), 2).resultType).toBe(TopUpResult.RejectedInvalid);
    expect(pp.consumerTopUp(enc('00000000000002000000'), 2).resultType).toBe(TopUpResult.RejectedInvalid);
    expect(pp.consumerTopUp(enc('99999999999999999999'), 2).resultType).toBe(
      TopUpResult.RejectedMaxCreditReached,
    );
    const log = pp.topUpRecords(0xffffffff, 0);
    expect(log).toHaveLength(1);
    expect(log[0]!.topUpAmount).toBe(1000);
    expect(pp.topUpRecords(0, 5)).toHaveLength(0);
  });
});
