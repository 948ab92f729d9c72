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
  /**
   * Optional: the largest distance, metres, at which `pathLossDb` on `band` can be at most
   * `budgetDb` for any pair of places (walls only add loss); null when there is no such bound
   * or when `shadowingDb` draws on this band. With it the bus visits only the radios within
   * reach of each frame (air-index.ts); without it, every radio on the band.
   */
  reachM?(band: Band, budgetDb: number): number | null;
}

/**
 * Whether an overlap destroys a frame. Asked per overlapping frame audible or not, in the
 * order the frames went on the air, until one destroys it (each answer may cost a shadowing
 * draw, so the bus never asks more than it needs).
 */
export interface InterferenceModel {
  destroys(signalDbm: number, interfererDbm: number, sensitivityDbm: number): boolean;
  /**
   * Optional: `destroys` is false whenever the interferer is below the receiver's
   * sensitivity. Then, on a band with a reach, the bus weighs only overlapping frames whose
   * sender can reach the receiver (a city's channel carries frames from the whole street).
   */
  readonly audibleOnly?: boolean;
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

  /** Inverse of the log-distance loss; none with shadowing (a draw per pair, unbounded). */
  reachM(band: Band, budgetDb: number): number | null {
    const m = this.bands[band];
    if (m.shadowingSigmaDb > 0 || !(m.pathLossExponent > 0)) return null;
    if (budgetDb < m.referenceLossDb) return 0;
    return m.referenceDistanceM * 10 ** ((budgetDb - m.referenceLossDb) / (10 * m.pathLossExponent));
  }
}

/** Any audible overlap destroys the frame (no capture effect). */
export const ANY_AUDIBLE_OVERLAP: InterferenceModel = {
  destroys: (_signal, interferer, sensitivity) => interferer >= sensitivity,
  audibleOnly: true,
};

/** Capture effect: a frame survives an audible overlap if it is at least `thresholdDb` stronger. */
export function captureEffect(thresholdDb: number): InterferenceModel {
  return {
    destroys: (signal, interferer, sensitivity) =>
      interferer >= sensitivity && signal - interferer < thresholdDb,
    audibleOnly: true,
  };
}

/** Speed of light, m/s. */
const C = 299_792_458;

export interface FreeSpaceBand {
  /** Frequency the loss is computed at, MHz (default: 2440 on 2.4 GHz, 868 on GB868). */
  frequencyMHz?: number;
}

/** Friis at each band's frequency only: no walls, no shadowing (an open field, or an upper bound on range). */
export class FreeSpaceModel implements PropagationModel {
  readonly name = 'free-space';
  readonly reciprocal = true;
  private readonly frequencyMHz: Record<Band, number>;
  constructor(bands: Partial<Record<Band, FreeSpaceBand>> = {}) {
    this.frequencyMHz = {
      '2.4GHz': bands['2.4GHz']?.frequencyMHz ?? 2440,
      GB868: bands.GB868?.frequencyMHz ?? 868,
    };
  }

  /** 20 log10(4 pi d f / c); distances under 1 m count as 1 m (Friis does not hold in the near field). */
  pathLossDb(tx: PathEnd, rx: PathEnd, band: Band): number {
    const d = Math.max(distance(tx.position, rx.position), 1);
    return 20 * Math.log10((4 * Math.PI * d * this.frequencyMHz[band] * 1e6) / C);
  }

  shadowingDb(): number {
    return 0;
  }

  /** Inverse of Friis (0 when even 1 m loses more than the budget). */
  reachM(band: Band, budgetDb: number): number | null {
    const d = (10 ** (budgetDb / 20) * C) / (4 * Math.PI * this.frequencyMHz[band] * 1e6);
    return d < 1 ? 0 : d;
  }
}

export interface MatrixLink {
  /** EUI64s (a scenario may also name devices by id). */
  from: string;
  to: string;
  /** Path loss from `from` to `to`, dB; also `to` to `from` unless `reverseLossDb` is given. */
  lossDb: number;
  reverseLossDb?: number;
  /** Only on this band (default: both). */
  band?: Band;
}

export interface MatrixConfig {
  links: MatrixLink[];
  /**
   * Path loss of every pair not listed and of jammers, dB. Omitted: those are computed by the
   * log-distance model (positions, walls, band models, shadowing).
   */
  defaultLossDb?: number;
}

/** Fixed path loss per pair of radios (a measured site, or a test topology); no shadowing on listed pairs. */
export class MatrixModel implements PropagationModel {
  readonly name = 'matrix';
  readonly reciprocal = false;
  /** `band|from|to` -> dB. */
  private readonly loss = new Map<string, number>();
  constructor(
    private readonly config: MatrixConfig,
    private readonly fallback: PropagationModel | null,
  ) {
    for (const l of config.links)
      for (const band of l.band === undefined ? (['2.4GHz', 'GB868'] as const) : [l.band]) {
        this.loss.set(`${band}|${l.from}|${l.to}`, l.lossDb);
        this.loss.set(`${band}|${l.to}|${l.from}`, l.reverseLossDb ?? l.lossDb);
      }
  }

  private listed(tx: PathEnd, rx: PathEnd, band: Band): number | undefined {
    return tx.eui64 === null || rx.eui64 === null
      ? undefined
      : this.loss.get(`${band}|${tx.eui64}|${rx.eui64}`);
  }

  pathLossDb(tx: PathEnd, rx: PathEnd, band: Band): number {
    const listed = this.listed(tx, rx, band);
    if (listed !== undefined) return listed;
    if (this.fallback !== null) return this.fallback.pathLossDb(tx, rx, band);
    return this.config.defaultLossDb ?? Number.POSITIVE_INFINITY;
  }

  shadowingDb(tx: PathEnd, rx: PathEnd, band: Band, random: RandomSource): number {
    if (this.fallback === null || this.listed(tx, rx, band) !== undefined) return 0;
    return this.fallback.shadowingDb(tx, rx, band, random);
  }
}

export type PropagationModelName = 'log-distance' | 'free-space' | 'matrix';

/** The model a medium configuration names (checked beforehand by `mediumModelIssue`). */
export function propagationModelFor(
  config: {
    model?: PropagationModelName;
    walls?: readonly Wall[];
    freeSpace?: Partial<Record<Band, FreeSpaceBand>>;
    matrix?: MatrixConfig;
  },
  bands: Readonly<Record<Band, BandModel>>,
): PropagationModel {
  const logDistance = () => new LogDistanceModel(bands, config.walls ?? []);
  switch (config.model ?? 'log-distance') {
    case 'free-space':
      return new FreeSpaceModel(config.freeSpace);
    case 'matrix': {
      const matrix = config.matrix ?? { links: [] };
      return new MatrixModel(matrix, matrix.defaultLossDb === undefined ? logDistance() : null);
    }
    default:
      return logDistance();
  }
}
