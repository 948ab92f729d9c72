/**
 * The one error a bad study file (or a bad sweep option) produces: a stable code, the file,
 * the line and the field, like the scenario loader's ScenarioError, so the CLI prints one line.
 */

export type SweepErrorCode =
  /** The study file could not be read. */
  | 'STUDY_READ'
  /** Not valid YAML. */
  | 'STUDY_YAML'
  /** A field is missing, unknown or of the wrong type. */
  | 'STUDY_SCHEMA'
  /** A metric or plot name that is not in the documented list. */
  | 'STUDY_UNKNOWN_METRIC'
  | 'STUDY_UNKNOWN_PLOT'
  /** A `{{name}}` placeholder in the template that no parameter defines (or a parameter no placeholder uses). */
  | 'STUDY_PLACEHOLDER'
  /** The scenario a combination of parameters makes is not a valid scenario (the scenario loader's error follows). */
  | 'STUDY_SCENARIO'
  /** More runs than `--max-runs` allows. */
  | 'STUDY_LIMIT'
  /** A bad command-line option (`--workers`, `--queue`, `--out`). */
  | 'SWEEP_OPTION';

export class SweepError extends Error {
  constructor(
    readonly code: SweepErrorCode,
    readonly file: string,
    /** 1-based line, or null when not about one place. */
    readonly line: number | null,
    /** Dotted path of the field; '' for the whole document. */
    readonly field: string,
    readonly detail: string,
  ) {
    super(
      `${file}${line === null ? '' : `:${line}`}: ${field === '' ? '' : `${field}: `}${detail} [${code}]`,
    );
    this.name = 'SweepError';
  }
}
