/**
 * The one error a bad scenario file produces: a stable code, the file, the line and the
 * field (a dotted path into the document), so a person can go straight to the mistake.
 */

export type ScenarioErrorCode =
  /** The file could not be read (missing, not a regular file, a directory without scenarios, ...). */
  | 'SCENARIO_READ'
  /** Not valid YAML (also: more aliases than a scenario needs, as in a "billion laughs" file). */
  | 'SCENARIO_YAML'
  /** A field is missing, unknown or of the wrong type. */
  | 'SCENARIO_SCHEMA'
  | 'SCENARIO_UNKNOWN_DEVICE_TYPE'
  | 'SCENARIO_UNKNOWN_ACTION'
  | 'SCENARIO_BAD_EUI64'
  | 'SCENARIO_BAD_DURATION'
  | 'SCENARIO_DUPLICATE_ID'
  /** A device id (in a timeline entry, an action argument or an expectation) that no device has. */
  | 'SCENARIO_UNKNOWN_REFERENCE'
  /** The device type's own configuration schema refused `config`. */
  | 'SCENARIO_BAD_CONFIG'
  /** The medium section (or a radio fault) is not something the bus accepts. */
  | 'SCENARIO_BAD_MEDIUM'
  /** A time that can never come: a timeline entry after the duration, an expectation with `after` > `before`. */
  | 'SCENARIO_BAD_TIME'
  /**
   * An expectation's matcher that no trace event can match: an event type the catalogue does
   * not have (`joinned`), a field that event does not have, or a value the field never takes.
   */
  | 'SCENARIO_BAD_EVENT'
  /**
   * Over a limit that keeps a run within memory: file size (`--max-file-size`), number of
   * devices (`--max-devices`) or duration (`--max-duration`); the message names the option.
   */
  | 'SCENARIO_LIMIT';

export class ScenarioError extends Error {
  constructor(
    readonly code: ScenarioErrorCode,
    readonly file: string,
    /** 1-based line, or null when the error is not about one place (e.g. an unreadable file). */
    readonly line: number | null,
    /** Dotted path of the field, e.g. `devices.1.eui64`; '' for the whole document. */
    readonly field: string,
    readonly detail: string,
  ) {
    super(
      `${file}${line === null ? '' : `:${line}`}: ${field === '' ? '' : `${field}: `}${detail} [${code}]`,
    );
    this.name = 'ScenarioError';
  }
}
