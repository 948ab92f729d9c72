/**
 * The radio model behind an interface (as OTNS does): the bus decides what happens to a frame
 * (timing, channels, half duplex, jammers, loss draws, duty cycle) and asks a
 * `PropagationModel` only how much signal goes from one place to another, and an
 * `InterferenceModel` only whether an overlap destroys a frame. So another propagation model
 * (free space, a measured site's matrix, one of your own) changes the air without touching
 * the bus's order of events or its seeded draws.
 */
import { type BandModel, distance, type Position, pathLossDb, type Wall, wallLossDb } from './medium.js';
import type { Band } from './phy.js';
import type { Prng } from './prng.js';

/** One end of a path: a radio (its EUI64) or a jammer (null). The bus's own radios are passed as they are. */
export interface PathEnd {
  readonly eui64: string | null;
  readonly position: Position;
}

/** The bus's seeded PRNG as a model may use it: draws only, in the order the bus asks. */
export type RandomSource = Pick<Prng, 'next' | 'gaussian'>;

export interface PropagationModel {
  /** For messages and the trace of what ran (`log-distance`, `free-space`, `matrix`). */
  readonly name: string;
  /** The loss is the same both ways: the bus then computes a pair once, in whichever direction comes first. */
  readonly reciprocal: boolean;
  /**
   * Mean path loss from `tx` to `rx` on `band`, dB. Must depend on its arguments only: the
   * bus caches it per pair of radios (jammers are not cached).
   */
  pathLossDb(tx: PathEnd, rx: PathEnd, band: Band): number;
  /**
   * Per-frame variation of one radio pair's received power, dB, drawn from `random` (the
   * bus's seeded PRNG) or 0 without drawing. Called once each time the bus needs that power.
   */
  shadowingDb(tx: PathEnd, rx: PathEnd, band: Band, random: RandomSource): number;
}

/**
 * Whether an overlap destroys a frame. Asked per overlapping frame audible or not, in the
 * order the frames went on the air, until one destroys it (each answer may cost a shadowing
 * draw, so the bus never asks more than it needs).
 */
export interface InterferenceModel {
  destroys(signalDbm: number, interfererDbm: number, sensitivityDbm: number): boolean;
}

/** The default: ITU-R P.1238-style log-distance loss per band, plus a loss per wall crossed. */
export class LogDistanceModel implements PropagationModel {
  readonly name = 'log-distance';
  readonly reciprocal = true;
  constructor(
    private readonly bands: Readonly<Record<Band, BandModel>>,
    private readonly walls: readonly Wall[],
  ) {}

  pathLossDb(tx: PathEnd, rx: PathEnd, band: Band): number {
    const model = this.bands[band];
    return (
      pathLossDb(distance(tx.position, rx.position), model) +
      wallLossDb(tx.position, rx.position, this.walls, model)
    );
  }

  shadowingDb(_tx: PathEnd, _rx: PathEnd, band: Band, random: RandomSource): number {
    const sigma = this.bands[band].shadowingSigmaDb;
    return sigma > 0 ? sigma * random.gaussian() : 0;
  }
}

/** Any audible overlap destroys the frame (no capture effect). */
export const ANY_AUDIBLE_OVERLAP: InterferenceModel = {
  destroys: (_signal, interferer, sensitivity) => interferer >= sensitivity,
};

/** Capture effect: a frame survives an audible overlap if it is at least `thresholdDb` stronger. */
export function captureEffect(thresholdDb: number): InterferenceModel {
  return {
    destroys: (signal, interferer, sensitivity) =>
      interferer >= sensitivity && signal - interferer < thresholdDb,
  };
}
