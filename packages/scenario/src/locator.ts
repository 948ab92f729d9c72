/**
 * From a path in the scenario document (`devices.2.config.ch`) to its line, and the loader's
 * errors (file, line, field, code). Entries a `homes:` section expanded (schema-homes.ts) are
 * reported at their template entry's line and field, with the home they are of.
 */
import type { Document, LineCounter } from 'yaml';
import { isNode } from 'yaml';
import type { z } from 'zod';
import { ScenarioError, type ScenarioErrorCode } from './errors.js';
import type { HomeOrigin } from './schema-homes.js';

export type Path = (string | number)[];

export class Locator {
  constructor(
    readonly file: string,
    private readonly doc: Document,
    private readonly lines: LineCounter,
    /** `devices.7` -> its template entry and home (expanded `homes:`). */
    private readonly origins: ReadonlyMap<string, HomeOrigin> = new Map(),
  ) {}

  /** The path as written in the file (an expanded entry's is its template's), and its home. */
  private place(path: Path): { path: Path; home?: number } {
    const o = path.length >= 2 ? this.origins.get(`${path[0]}.${path[1]}`) : undefined;
    return o === undefined ? { path } : { path: [...o.path, ...path.slice(2)], home: o.home };
  }

  line(written: Path): number | null {
    const { path } = this.place(written);
    for (let n = path.length; n >= 0; n--) {
      const node = n === 0 ? this.doc.contents : this.doc.getIn(path.slice(0, n), true);
      if (isNode(node) && node.range) return this.lines.linePos(node.range[0]).line;
    }
    return null;
  }

  error(code: ScenarioErrorCode, path: Path, detail: string): ScenarioError {
    const p = this.place(path);
    const home = p.home === undefined ? '' : `home ${p.home}: `;
    return new ScenarioError(code, this.file, this.line(path), p.path.join('.'), `${home}${detail}`);
  }

  /** Parse `value` (found at `path`) with `schema`; a failure names the first issue's line and field. */
  parse<S extends z.ZodType>(
    schema: S,
    value: unknown,
    path: Path,
    fallback: ScenarioErrorCode = 'SCENARIO_SCHEMA',
  ): z.output<S> {
    const r = schema.safeParse(value);
    if (r.success) return r.data;
    const issue = r.error.issues[0]!;
    let at: Path = [...path, ...(issue.path as Path)];
    let detail = issue.message;
    if (issue.code === 'unrecognized_keys') {
      at = [...at, issue.keys[0]!];
      detail = `unknown field (allowed: ${allowedKeys(schema, issue.path as Path).join(', ') || 'none'})`;
    } else if (
      issue.code === 'invalid_type' &&
      (issue.input === undefined || issue.message.endsWith('undefined'))
    ) {
      detail = `required (${issue.message})`;
    }
    const params = (issue as { params?: { gbhan?: ScenarioErrorCode } }).params;
    throw this.error(params?.gbhan ?? fallback, at, detail);
  }
}

function allowedKeys(schema: z.ZodType, path: Path): string[] {
  type Def = { innerType?: unknown; in?: unknown; element?: unknown };
  const unwrap = (x: unknown): unknown => {
    // optional / default / pipe (transform) wrappers down to the object or array
    for (let i = 0; i < 6 && x !== undefined; i++) {
      const def = (x as { def?: Def }).def;
      if ((x as { shape?: unknown }).shape !== undefined || def === undefined) return x;
      if (def.element !== undefined) return x;
      x = def.innerType ?? def.in;
    }
    return x;
  };
  let s: unknown = unwrap(schema);
  for (const p of path) {
    s =
      typeof p === 'number'
        ? (s as { def?: Def } | undefined)?.def?.element
        : (s as { shape?: Record<string, unknown> } | undefined)?.shape?.[p];
    s = unwrap(s);
  }
  const shape = (s as { shape?: Record<string, unknown> } | undefined)?.shape;
  return shape ? Object.keys(shape) : [];
}
