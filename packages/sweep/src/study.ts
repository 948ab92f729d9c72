/**
 * A study file: a scenario template with `{{name}}` placeholders, the parameters that fill
 * them (lists, ranges or named values), the seeds, the metrics to collect (by name, from
 * metrics.ts) and the plots to draw. `loadStudy` checks it all with file:line errors and
 * expands it into runs: every combination of parameter values x seed is one `RunTask`,
 * self-contained (the scenario's text included) so a worker on another machine needs nothing else.
 */
import { readFileSync, statSync } from 'node:fs';
import { parseDuration } from '@gbhan/clock';
import { parseScenario, ScenarioError } from '@gbhan/scenario';
import { type Document, isNode, LineCounter, parseDocument, stringify } from 'yaml';
import { z } from 'zod';
import { SweepError, type SweepErrorCode } from './errors.js';
import { METRICS, type MetricSpec } from './metrics.js';
import { PLOTS } from './plot-specs.js';

type Path = (string | number)[];

const scalar = z.union([z.string(), z.number(), z.boolean()]);
const ParamSchema = z.union([
  z.array(scalar).min(1),
  /** from, to (inclusive), step */
  z.strictObject({ range: z.tuple([z.number(), z.number(), z.number().positive()]) }),
  /** label -> any YAML value (a layout, a list of devices ...); the label names it in the results */
  z.strictObject({ values: z.record(z.string().regex(/^[\w.+-]+$/), z.unknown()) }),
]);
const Name = z.string().regex(/^[A-Za-z_]\w*$/, 'letters, digits and _ (used as {{name}})');
const Seeds = z.union([
  z.number().int().min(1).max(10_000),
  z.array(z.union([z.number().int(), z.string().regex(/^[\w.-]+$/)])).min(1),
]);
const Outputs = z.strictObject({
  trace: z.boolean().default(false),
  pcap: z.boolean().default(false),
  keys: z.boolean().default(false),
});

export const StudySchema = z.strictObject({
  name: z
    .string()
    .regex(/^[A-Za-z0-9][\w.-]*$/, 'letters, digits, ., - and _ (it names the output directory)'),
  description: z.string().optional(),
  /** The scenario template (a scenario document, usually with `homes:`), `{{name}}` where parameters go. */
  scenario: z.record(z.string(), z.unknown()),
  parameters: z.record(Name, ParamSchema).default({}),
  /** A count n (seeds 1..n) or the seeds themselves. */
  seeds: Seeds,
  /** Metric names (metrics.ts), or `{name: {options}}`. */
  metrics: z.array(z.union([z.string(), z.record(z.string(), z.record(z.string(), z.unknown()))])).min(1),
  plots: z.array(z.union([z.string(), z.record(z.string(), z.record(z.string(), z.unknown()))])).default([]),
  /** What each run keeps besides summary.json (default nothing: a study has many runs). */
  outputs: Outputs.default({ trace: false, pcap: false, keys: false }),
  /** `--quick`: fewer values, seeds, a shorter duration (CI). */
  quick: z
    .strictObject({
      parameters: z.record(Name, ParamSchema).default({}),
      seeds: Seeds.optional(),
      duration: z.string().optional(),
    })
    .optional(),
});
export type StudyFile = z.output<typeof StudySchema>;

export interface ParamValue {
  label: string;
  value: unknown;
}

/** What one run needs, wherever it runs (a worker thread, a BullMQ worker on another machine). */
export interface RunTask {
  study: string;
  /** `place=terrace,window=60m,seed=3`: the row's identity. */
  key: string;
  /** Directory of the run under the study's `runs/`. */
  dir: string;
  params: Record<string, string>;
  seed: string;
  scenarioText: string;
  metrics: MetricSpec[];
  outputs: { trace: boolean; pcap: boolean; keys: boolean };
}

export interface PlotSpec {
  name: string;
  options: Record<string, unknown>;
}

export interface Study {
  file: string;
  name: string;
  /** The output directory's name: the study's, `-quick` added for --quick (so their rows never mix). */
  outName: string;
  description: string;
  parameters: { name: string; values: ParamValue[] }[];
  seeds: string[];
  metrics: MetricSpec[];
  plots: PlotSpec[];
  tasks: RunTask[];
  quick: boolean;
}

class StudyLocator {
  constructor(
    readonly file: string,
    private readonly doc: Document,
    private readonly lines: LineCounter,
  ) {}

  line(path: Path): number | null {
    for (let n = path.length; n >= 0; n--) {
      const node = n === 0 ? this.doc.contents : this.doc.getIn(path.slice(0, n), true);
      if (isNode(node) && node.range) return this.lines.linePos(node.range[0]).line;
    }
    return null;
  }

  error(code: SweepErrorCode, path: Path, detail: string): SweepError {
    return new SweepError(code, this.file, this.line(path), path.join('.'), detail);
  }

  parse<S extends z.ZodType>(schema: S, value: unknown, path: Path): z.output<S> {
    const r = schema.safeParse(value);
    if (r.success) return r.data;
    const issue = r.error.issues[0]!;
    let at: Path = [...path, ...(issue.path as Path)];
    let detail = issue.message;
    if (issue.code === 'unrecognized_keys') {
      at = [...at, issue.keys[0]!];
      detail = 'unknown field';
    } else if (issue.code === 'invalid_type' && issue.input === undefined) detail = `required (${detail})`;
    throw this.error('STUDY_SCHEMA', at, detail);
  }
}

const round = (n: number) => Math.round(n * 1e9) / 1e9;

function paramValues(p: z.output<typeof ParamSchema>): ParamValue[] {
  if (Array.isArray(p)) return p.map((v) => ({ label: String(v), value: v }));
  if ('range' in p) {
    const [from, to, step] = p.range;
    const out: ParamValue[] = [];
    for (let i = 0; from + i * step <= to + 1e-9 && i < 100_000; i++) {
      const v = round(from + i * step);
      out.push({ label: String(v), value: v });
    }
    return out;
  }
  return Object.entries(p.values).map(([label, value]) => ({ label, value }));
}

const PLACEHOLDER = /\{\{(\w+)(?:\.(\w+))?\}\}/g;
const WHOLE = /^\{\{(\w+)(?:\.(\w+))?\}\}$/;

/** Every `{{name}}` / `{{name.field}}` in the template, with the path it is at. */
function placeholders(v: unknown, path: Path, out: Map<string, Path>): void {
  if (typeof v === 'string')
    for (const m of v.matchAll(PLACEHOLDER)) if (!out.has(m[1]!)) out.set(m[1]!, path);
  if (Array.isArray(v)) {
    for (const [i, x] of v.entries()) placeholders(x, [...path, i], out);
  } else if (v !== null && typeof v === 'object')
    for (const [k, x] of Object.entries(v)) placeholders(x, [...path, k], out);
}

/** A placeholder's value: the parameter's, or one field of it (`{{place.attacker}}`). */
function lookup(
  vars: ReadonlyMap<string, ParamValue>,
  name: string,
  field: string | undefined,
): ParamValue | undefined {
  const p = vars.get(name);
  if (p === undefined || field === undefined) return p;
  const v = p.value as Record<string, unknown> | null;
  if (v === null || typeof v !== 'object' || !Object.hasOwn(v, field))
    throw new FillError(name, `{{${name}.${field}}}: the value ${p.label} of ${name} has no field ${field}`);
  const x = v[field];
  return { label: typeof x === 'object' ? `${p.label}.${field}` : String(x), value: x };
}

export class FillError extends Error {
  constructor(
    readonly parameter: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The template with the parameters filled in: a string that is only `{{name}}` (or
 * `{{name.field}}`, a field of a named value) becomes the value itself (a number, a mapping,
 * a list); a list item that is only a placeholder with a list value is replaced by the
 * list's items (so a parameter can add devices or timeline entries, or none); elsewhere the
 * placeholder becomes the value's label. Values are filled too (they may hold placeholders).
 */
export function fill(v: unknown, vars: ReadonlyMap<string, ParamValue>, depth = 0): unknown {
  if (depth > 20)
    throw new FillError('', 'placeholders nested more than 20 deep (a value that names itself?)');
  const whole = (s: string) => {
    const m = WHOLE.exec(s);
    return m === null ? undefined : lookup(vars, m[1]!, m[2]);
  };
  if (typeof v === 'string') {
    const w = whole(v);
    if (w !== undefined) return fill(structuredClone(w.value), vars, depth + 1);
    return v.replace(PLACEHOLDER, (m, k: string, f?: string) => lookup(vars, k, f)?.label ?? m);
  }
  if (Array.isArray(v)) {
    const out: unknown[] = [];
    for (const x of v) {
      const w = typeof x === 'string' ? whole(x) : undefined;
      if (w !== undefined && Array.isArray(w.value))
        out.push(...(fill(w.value, vars, depth + 1) as unknown[]));
      else out.push(fill(x, vars, depth));
    }
    return out;
  }
  if (v !== null && typeof v === 'object')
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, fill(x, vars, depth)]));
  return v;
}

/** A run's directory name: the key with only file-name-safe characters. */
export function runDir(key: string): string {
  return key
    .replace(/=/g, '-')
    .replace(/,/g, '_')
    .replace(/[^\w.+-]/g, '~');
}

export interface LoadOptions {
  quick?: boolean;
  /** Refuse a study of more runs (default 100,000). */
  maxRuns?: number;
}

function readStudyFile(file: string): string {
  try {
    const st = statSync(file);
    if (!st.isFile()) throw new Error('not a regular file');
    if (st.size > 4 * 2 ** 20) throw new Error('larger than 4 MiB');
    return readFileSync(file, 'utf8');
  } catch (e) {
    throw new SweepError('STUDY_READ', file, null, '', `cannot read: ${(e as Error).message}`);
  }
}

export function loadStudy(file: string, o: LoadOptions = {}): Study {
  return parseStudy(readStudyFile(file), file, o);
}

export function parseStudy(text: string, file: string, o: LoadOptions = {}): Study {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  const yamlError = doc.errors[0];
  if (yamlError !== undefined)
    throw new SweepError(
      'STUDY_YAML',
      file,
      lines.linePos(yamlError.pos[0]).line,
      '',
      `invalid YAML: ${yamlError.message.split('\n')[0]}`,
    );
  const at = new StudyLocator(file, doc, lines);
  let js: unknown;
  try {
    js = doc.toJS({ maxAliasCount: 100 });
  } catch (e) {
    throw at.error('STUDY_YAML', [], (e as Error).message);
  }
  const s = at.parse(StudySchema, js, []);
  const quick = o.quick === true;
  if (quick && s.quick === undefined)
    throw at.error('STUDY_SCHEMA', ['name'], '--quick needs a `quick:` section in the study');
  const outName = quick ? `${s.name}-quick` : s.name;
  if (quick && s.quick!.duration !== undefined) {
    try {
      parseDuration(s.quick!.duration);
    } catch (e) {
      throw at.error('STUDY_SCHEMA', ['quick', 'duration'], (e as Error).message);
    }
  }

  const metrics = s.metrics.map((m, i): MetricSpec => {
    const [name, options] = typeof m === 'string' ? [m, {}] : (Object.entries(m)[0] ?? ['', {}]);
    const def = METRICS[name];
    if (def === undefined)
      throw at.error(
        'STUDY_UNKNOWN_METRIC',
        ['metrics', i],
        `unknown metric ${JSON.stringify(name)} (known: ${Object.keys(METRICS).join(', ')})`,
      );
    const parsed = at.parse(def.options, options, ['metrics', i, name]);
    return { name, options: parsed as Record<string, unknown> };
  });
  const plots = s.plots.map((p, i): PlotSpec => {
    const [name, options] = typeof p === 'string' ? [p, {}] : (Object.entries(p)[0] ?? ['', {}]);
    const def = PLOTS[name];
    if (def === undefined)
      throw at.error(
        'STUDY_UNKNOWN_PLOT',
        ['plots', i],
        `unknown plot ${JSON.stringify(name)} (known: ${Object.keys(PLOTS).join(', ')})`,
      );
    return { name, options: at.parse(def.options, options, ['plots', i, name]) as Record<string, unknown> };
  });

  // Parameters: the study's, with --quick's replacements.
  const given = quick ? { ...s.parameters, ...s.quick!.parameters } : s.parameters;
  if (quick)
    for (const q of Object.keys(s.quick!.parameters))
      if (!(q in s.parameters))
        throw at.error('STUDY_SCHEMA', ['quick', 'parameters', q], `no parameter ${q} in parameters:`);
  const parameters = Object.entries(given).map(([name, p]) => {
    const values = paramValues(p);
    const where: Path =
      quick && name in s.quick!.parameters ? ['quick', 'parameters', name] : ['parameters', name];
    if (values.length === 0) throw at.error('STUDY_SCHEMA', where, 'no values (check the range)');
    if (new Set(values.map((v) => v.label)).size !== values.length)
      throw at.error('STUDY_SCHEMA', where, 'two values with the same label');
    return { name, values };
  });
  const seedsGiven = (quick ? s.quick!.seeds : undefined) ?? s.seeds;
  const seeds =
    typeof seedsGiven === 'number'
      ? Array.from({ length: seedsGiven }, (_, i) => String(i + 1))
      : seedsGiven.map(String);

  // Every placeholder is a parameter (or seed), every parameter is used.
  const used = new Map<string, Path>();
  placeholders(s.scenario, ['scenario'], used);
  for (const [name, path] of used)
    if (name !== 'seed' && !parameters.some((p) => p.name === name))
      throw at.error(
        'STUDY_PLACEHOLDER',
        path,
        `{{${name}}} is not a parameter (parameters: ${parameters.map((p) => p.name).join(', ') || 'none'})`,
      );
  for (const p of parameters)
    if (!used.has(p.name))
      throw at.error('STUDY_PLACEHOLDER', ['parameters', p.name], `{{${p.name}}} is not used in scenario:`);

  const combos = parameters.reduce<ParamValue[][]>(
    (acc, p) => acc.flatMap((c) => p.values.map((v) => [...c, v])),
    [[]],
  );
  const total = combos.length * seeds.length;
  const maxRuns = o.maxRuns ?? 100_000;
  if (total > maxRuns)
    throw at.error('STUDY_LIMIT', ['parameters'], `${total} runs, more than ${maxRuns} (--max-runs)`);

  const tasks: RunTask[] = [];
  for (const combo of combos) {
    const vars = new Map(parameters.map((p, i) => [p.name, combo[i]!]));
    const params = Object.fromEntries(parameters.map((p, i) => [p.name, combo[i]!.label]));
    const base = parameters.map((p, i) => `${p.name}=${combo[i]!.label}`);
    for (const [n, seed] of seeds.entries()) {
      const key = [...base, `seed=${seed}`].join(',');
      vars.set('seed', { label: seed, value: /^\d+$/.test(seed) ? Number(seed) : seed });
      const dir = runDir(key);
      let doc: Record<string, unknown>;
      try {
        doc = fill(s.scenario, vars) as Record<string, unknown>;
      } catch (e) {
        if (!(e instanceof FillError)) throw e;
        throw at.error(
          'STUDY_PLACEHOLDER',
          e.parameter ? ['parameters', e.parameter] : ['scenario'],
          e.message,
        );
      }
      doc.name = dir;
      doc.seed = vars.get('seed')!.value;
      if (quick && s.quick!.duration !== undefined) doc.duration = s.quick!.duration;
      doc.outputs = s.outputs;
      const scenarioText = stringify(doc, { lineWidth: 0 });
      // Each combination is checked once (the seed changes only a random layout).
      if (n === 0) {
        try {
          parseScenario(scenarioText, `${dir}.yaml`, { maxDevices: 2000 });
        } catch (e) {
          if (!(e instanceof ScenarioError)) throw e;
          throw at.error(
            'STUDY_SCENARIO',
            ['scenario'],
            `the scenario for ${base.join(',') || 'the study'}: ${e.field ? `${e.field}: ` : ''}${e.detail} [${e.code}]`,
          );
        }
      }
      tasks.push({ study: outName, key, dir, params, seed, scenarioText, metrics, outputs: s.outputs });
    }
  }
  return {
    file,
    name: s.name,
    outName,
    description: s.description ?? '',
    parameters,
    seeds,
    metrics,
    plots,
    tasks,
    quick,
  };
}
