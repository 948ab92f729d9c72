/**
 * Propagation: a log-distance path-loss model with a loss per wall crossed, per band.
 * ASSUMPTION (protocol-notes §6): the public GB documents give no propagation figures, so the
 * defaults come from textbook sources and are all configurable:
 * - PL(1 m) is free-space loss at the band's centre (Friis, 20 log10(4 pi d f / c)):
 *   40.2 dB at 2440 MHz, 31.2 dB at 868 MHz, so 868 starts ~9 dB ahead.
 * - Distance exponent 2.8: ITU-R P.1238 distance power loss coefficient for residential
 *   buildings (N = 28).
 * - Wall loss 6 dB at 2.4 GHz and 4 dB at 868 MHz per interior masonry wall (typical
 *   measured ranges 3-10 dB; lower frequencies penetrate better).
 * - Receiver sensitivity -100 dBm (2.4 GHz SoCs; the standard requires -85) and -107 dBm at
 *   868 MHz (the "5-10 dB better" of protocol-notes §6).
 * - Transmit power 3 dBm on both bands unless a radio registers its own.
 */
import type { Band } from './phy.js';

export interface Position {
  x: number;
  y: number;
  /** Height or floor, metres (optional). */
  z?: number;
}

/** A wall as a 2-D segment on the floor plan; `lossDb` overrides the band's default. */
export interface Wall {
  from: [number, number];
  to: [number, number];
  lossDb?: number;
}

export interface BandModel {
  /** Path loss at the reference distance (1 m), dB. */
  referenceLossDb: number;
  referenceDistanceM: number;
  pathLossExponent: number;
  wallLossDb: number;
  defaultSensitivityDbm: number;
  defaultTxPowerDbm: number;
  /** Standard deviation of per-frame log-normal shadowing, dB (0 = none). */
  shadowingSigmaDb: number;
  /** Received power above sensitivity that maps to LQI 255 (LQI is linear below it). */
  lqiSpanDb: number;
}

export const DEFAULT_BAND_MODELS: Record<Band, BandModel> = {
  '2.4GHz': {
    referenceLossDb: 40.2,
    referenceDistanceM: 1,
    pathLossExponent: 2.8,
    wallLossDb: 6,
    defaultSensitivityDbm: -100,
    defaultTxPowerDbm: 3,
    shadowingSigmaDb: 0,
    lqiSpanDb: 40,
  },
  GB868: {
    referenceLossDb: 31.2,
    referenceDistanceM: 1,
    pathLossExponent: 2.8,
    wallLossDb: 4,
    defaultSensitivityDbm: -107,
    defaultTxPowerDbm: 3,
    shadowingSigmaDb: 0,
    lqiSpanDb: 40,
  },
};

export function distance(a: Position, b: Position): number {
  return Math.hypot(a.x - b.x, a.y - b.y, (a.z ?? 0) - (b.z ?? 0));
}

/** Do segments p1-p2 and q1-q2 properly cross (touching at an end counts as crossing)? */
function segmentsCross(p1: Position, p2: Position, q1: [number, number], q2: [number, number]): boolean {
  const orient = (ax: number, ay: number, bx: number, by: number, cx: number, cy: number) =>
    Math.sign((bx - ax) * (cy - ay) - (by - ay) * (cx - ax));
  const o1 = orient(p1.x, p1.y, p2.x, p2.y, q1[0], q1[1]);
  const o2 = orient(p1.x, p1.y, p2.x, p2.y, q2[0], q2[1]);
  const o3 = orient(q1[0], q1[1], q2[0], q2[1], p1.x, p1.y);
  const o4 = orient(q1[0], q1[1], q2[0], q2[1], p2.x, p2.y);
  return o1 !== o2 && o3 !== o4;
}

/** Total wall loss on the straight line between two radios. */
export function wallLossDb(a: Position, b: Position, walls: readonly Wall[], model: BandModel): number {
  let loss = 0;
  for (const w of walls) if (segmentsCross(a, b, w.from, w.to)) loss += w.lossDb ?? model.wallLossDb;
  return loss;
}

/** Log-distance path loss, dB, without walls (distances under the reference clamp to it). */
export function pathLossDb(d: number, model: BandModel): number {
  const dd = Math.max(d, model.referenceDistanceM);
  return model.referenceLossDb + 10 * model.pathLossExponent * Math.log10(dd / model.referenceDistanceM);
}

/** LQI 0..255, linear from the receiver's sensitivity to sensitivity + lqiSpanDb. */
export function lqiFor(rssiDbm: number, sensitivityDbm: number, model: BandModel): number {
  const v = Math.round(((rssiDbm - sensitivityDbm) / model.lqiSpanDb) * 255);
  return Math.max(0, Math.min(255, v));
}
