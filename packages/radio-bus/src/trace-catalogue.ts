/**
 * Trace event catalogues. Each package declares the events it puts in a run's trace once,
 * with `defineTraceEvents`: per event a one-line description and its fields as zod schemas.
 * From that one declaration come the package's TypeScript union (`TraceEventOf`), the scenario
 * loader's check of expectations (`checkTraceMatch`: an unknown event or field cannot match
 * anything, so it is a load error), the validation of a run's trace (`validateTraceEvent`,
 * strict: a field the catalogue does not declare fails) and the generated documentation.
 *
 * Here, in the lowest package with zod, so every package above can define its own.
 */
import { z } from 'zod';

/** An EUI64 as traces write it: 16 lowercase hex digits. */
export const eui64Field = z.string().regex(/^[0-9a-f]{16}$/, 'an EUI64 (16 lowercase hex digits)');

/** The fields of an event (besides `type`), as zod schemas. */
export type TraceFields = z.core.$ZodShape;

export interface TraceEventSpec {
  /** One line: what happened. */
  readonly description: string;
  readonly fields: TraceFields;
  /**
   * A check across fields (e.g. a reason of the event's layer): what is wrong, or null. Also
   * run on matchers, so it passes when a field it compares is absent.
   */
  readonly check?: (event: Record<string, unknown>) => string | null;
}

/** A documented list of values a field takes: value -> what it means. */
export type ValueList = Readonly<Record<string, string>>;

export type TraceEventSpecs = { readonly [type: string]: TraceEventSpec };

type Flat<T> = { [K in keyof T]: T[K] } & {};

/** The object type of fields: a field whose schema accepts undefined is optional. */
type FieldsOutput<F extends TraceFields> = {
  -readonly [K in keyof F as undefined extends z.output<F[K]> ? never : K]: z.output<F[K]>;
} & { -readonly [K in keyof F as undefined extends z.output<F[K]> ? K : never]?: z.output<F[K]> };

/** The union of the events of `specs`, each with `type` and the `common` fields. */
export type TraceEventOfSpecs<S extends TraceEventSpecs, C extends TraceFields> = {
  [K in keyof S & string]: Flat<{ type: K } & FieldsOutput<C> & FieldsOutput<S[K]['fields']>>;
}[keyof S & string];

/** A catalogue of any events (what the checks and the documentation take). */
export interface AnyTraceCatalogue {
  /** The package that emits these events (for the documentation). */
  readonly name: string;
  /** What these events are, in a sentence (for the documentation). */
  readonly description: string;
  readonly specs: TraceEventSpecs;
  /** Fields every event of the catalogue has (e.g. the bus's `t`). */
  readonly common: TraceFields;
  /** Value lists the fields use (drop reasons, ...), by title, for the documentation. */
  readonly lists: Readonly<Record<string, ValueList>>;
  /** Event types, in declaration order. */
  readonly types: readonly string[];
  /** The strict schema of one event (`type`, common fields, its fields), if the type is known. */
  schema(type: string): z.ZodObject | undefined;
}

export interface TraceCatalogue<
  S extends TraceEventSpecs = TraceEventSpecs,
  C extends TraceFields = TraceFields,
> extends AnyTraceCatalogue {
  readonly specs: S;
  readonly common: C;
  readonly types: readonly (keyof S & string)[];
}

/** The TypeScript union of a catalogue's events. */
export type TraceEventOf<T> = T extends TraceCatalogue<infer S, infer C> ? TraceEventOfSpecs<S, C> : never;

/**
 * Declare a package's trace events. Keys are the event types (`type` is added to each);
 * `common` fields are on every event (the bus's `t`).
 */
export function defineTraceEvents<
  const S extends TraceEventSpecs,
  const C extends TraceFields = Record<never, never>,
>(
  name: string,
  description: string,
  specs: S,
  options: { common?: C; lists?: Record<string, ValueList> } = {},
): TraceCatalogue<S, C> {
  const common = (options.common ?? {}) as C;
  const schemas = new Map<string, z.ZodObject>();
  for (const [type, spec] of Object.entries(specs)) {
    for (const k of Object.keys(spec.fields))
      if (k === 'type' || k in common) throw new Error(`trace event ${type}: field ${k} is reserved`);
    schemas.set(type, z.strictObject({ type: z.literal(type), ...common, ...spec.fields }));
  }
  return {
    name,
    description,
    specs,
    common,
    lists: options.lists ?? {},
    types: Object.keys(specs) as (keyof S & string)[],
    schema: (type) => schemas.get(type),
  };
}

/**
 * Several packages' catalogues as one (the device events of a run: stack, comms hub, meters,
 * ...). An event type may be declared only once: a second declaration throws.
 */
export function mergeTraceCatalogues(
  name: string,
  description: string,
  catalogues: readonly AnyTraceCatalogue[],
): AnyTraceCatalogue {
  const specs: Record<string, TraceEventSpec> = {};
  const owner = new Map<string, AnyTraceCatalogue>();
  for (const c of catalogues)
    for (const type of c.types) {
      const other = owner.get(type);
      if (other !== undefined)
        throw new Error(`trace event ${type} is declared by both ${other.name} and ${c.name}`);
      owner.set(type, c);
      specs[type] = c.specs[type]!;
    }
  return {
    name,
    description,
    specs,
    common: {},
    lists: Object.assign({}, ...catalogues.map((c) => c.lists)),
    types: Object.keys(specs),
    schema: (type) => owner.get(type)?.schema(type),
  };
}

/** What is wrong, where: `path` leads into the event (or the expectation's matcher). */
export interface TraceIssue {
  path: (string | number)[];
  message: string;
}

/** Strict check of one event: a known type, every field declared, every value of its type. */
export function validateTraceEvent(catalogue: AnyTraceCatalogue, event: unknown): TraceIssue | null {
  if (event === null || typeof event !== 'object' || Array.isArray(event))
    return { path: [], message: 'not an object' };
  const type = (event as { type?: unknown }).type;
  const schema = typeof type === 'string' ? catalogue.schema(type) : undefined;
  if (schema === undefined) return { path: ['type'], message: unknownType(catalogue, type) };
  const r = schema.safeParse(event);
  if (r.success) {
    const wrong = catalogue.specs[type as string]?.check?.(event as Record<string, unknown>) ?? null;
    return wrong === null ? null : { path: [], message: wrong };
  }
  const issue = r.error.issues[0]!;
  const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
  if (issue.code === 'unrecognized_keys')
    return { path: [...path, issue.keys[0]!], message: `not a field of ${type} events` };
  return { path, message: issue.message };
}

/**
 * Check a partial matcher (an expectation's `{type, field: value, ...}`) against the
 * catalogue: its type must be known, each field one that event has, each value one the field
 * can take (objects and arrays are checked inside). Without `type`, some event must have
 * every field given. Null when it can match an event.
 */
export function checkTraceMatch(
  catalogue: AnyTraceCatalogue,
  pattern: Record<string, unknown>,
): TraceIssue | null {
  if ('type' in pattern) {
    const type = pattern.type;
    const schema = typeof type === 'string' ? catalogue.schema(type) : undefined;
    if (schema === undefined) return { path: ['type'], message: unknownType(catalogue, type) };
    const issue = checkAgainst(schema, pattern, [], `${type} events`);
    if (issue !== null) return issue;
    const wrong = catalogue.specs[type as string]?.check?.(pattern) ?? null;
    return wrong === null ? null : { path: [], message: wrong };
  }
  const keys = Object.keys(pattern);
  const candidates = catalogue.types
    .map((t) => catalogue.schema(t)!)
    .filter((s) => keys.every((k) => k in s.shape));
  if (candidates.length === 0) {
    const missing = keys.find((k) => catalogue.types.every((t) => !(k in catalogue.schema(t)!.shape)));
    return missing !== undefined
      ? { path: [missing], message: `no ${catalogue.name} event has this field` }
      : { path: [], message: `no ${catalogue.name} event has all of the fields ${keys.join(', ')}` };
  }
  let first: TraceIssue | null = null;
  for (const s of candidates) {
    const issue = checkAgainst(s, pattern, [], 'any event');
    if (issue === null) return null;
    first ??= issue;
  }
  return first;
}

/** Partial match of `value` against `schema`: fields known, leaves of the right type. */
function checkAgainst(
  schema: z.core.$ZodType,
  value: unknown,
  path: (string | number)[],
  what: string,
): TraceIssue | null {
  const inner = unwrap(schema);
  if (inner instanceof z.ZodUnion && (isPlainObject(value) || Array.isArray(value))) {
    let first: TraceIssue | null = null;
    for (const option of inner.options) {
      const issue = checkAgainst(option, value, path, what);
      if (issue === null) return null;
      first ??= issue;
    }
    return first;
  }
  if (isPlainObject(value)) {
    if (inner instanceof z.ZodObject) {
      for (const [k, v] of Object.entries(value)) {
        const field = inner.shape[k];
        if (field === undefined)
          return {
            path: [...path, k],
            message: `not a field of ${what} (fields: ${Object.keys(inner.shape).join(', ')})`,
          };
        const issue = checkAgainst(field, v, [...path, k], k);
        if (issue !== null) return issue;
      }
      return null;
    }
    if (inner instanceof z.ZodRecord) {
      for (const [k, v] of Object.entries(value)) {
        const issue = checkAgainst(inner.valueType, v, [...path, k], k);
        if (issue !== null) return issue;
      }
      return null;
    }
  }
  if (Array.isArray(value) && inner instanceof z.ZodArray) {
    for (const [i, v] of value.entries()) {
      const issue = checkAgainst(inner.element, v, [...path, i], what);
      if (issue !== null) return issue;
    }
    return null;
  }
  if (inner instanceof z.ZodUnknown || inner instanceof z.ZodAny) return null;
  // A leaf (or a shape the schema does not have): the value must be one the field can take.
  const r = z.safeParse(schema, value);
  if (r.success) return null;
  const issue = r.error.issues[0]!;
  return {
    path: [...path, ...issue.path.filter((p): p is string | number => typeof p !== 'symbol')],
    message: `${JSON.stringify(value)} can never match: ${issue.message}`,
  };
}

/**
 * A list of exactly the values of the string type `T` (each once is not checked, every value
 * is): `listOf<WanErrorCode>()(['WAN_DOWN', ...])`. Catalogue modules keep the lists they
 * need this way, importing the type only, so loading a catalogue loads no protocol code.
 */
export function listOf<T extends string>() {
  return <const L extends readonly T[]>(values: L & ([T] extends [L[number]] ? unknown : never)): L => values;
}

/** A field taking the values of a documented list (an enum). */
export function listedEnum<const L extends ValueList>(list: L) {
  return z.enum(Object.keys(list) as [keyof L & string, ...(keyof L & string)[]]);
}

/**
 * A string field whose values are a documented list, typed `string` (emitters build it at
 * run time) but held to the list when checked; `detailAfter`: a listed value may be followed
 * by a space or `: ` and a detail (`unsupported-command readAttributes`).
 */
export function listedString(list: ValueList, options: { detailAfter?: boolean } = {}) {
  const listed = (v: string) => {
    if (Object.hasOwn(list, v)) return true;
    if (!options.detailAfter) return false;
    const cut = v.search(/:? /);
    return cut > 0 && Object.hasOwn(list, v.slice(0, cut));
  };
  return z
    .string()
    .refine(listed, { error: (issue) => `${JSON.stringify(issue.input)} is not one of the listed values` });
}

/** Down through optional / nullable / default / readonly wrappers. */
function unwrap(schema: z.core.$ZodType): z.core.$ZodType {
  let s = schema;
  for (let i = 0; i < 8; i++) {
    if (s instanceof z.ZodOptional || s instanceof z.ZodNullable || s instanceof z.ZodDefault) s = s.unwrap();
    else if (s instanceof z.ZodReadonly) s = s.def.innerType;
    else return s;
  }
  return s;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function unknownType(catalogue: AnyTraceCatalogue, type: unknown): string {
  if (typeof type !== 'string') return `an event type is a string, not ${JSON.stringify(type)}`;
  const near = nearest(type, catalogue.types);
  return `unknown ${catalogue.name} event type ${JSON.stringify(type)}${near === undefined ? '' : ` (did you mean ${JSON.stringify(near)}?)`}`;
}

/** The closest known name, if one is within a third of its length in edits. */
function nearest(word: string, names: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(1, Math.floor(word.length / 3)) + 1;
  for (const n of names) {
    const d = editDistance(word, n);
    if (d < bestDistance) {
      best = n;
      bestDistance = d;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++)
      row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = row;
  }
  return prev[b.length]!;
}
