/**
 * docs/trace-events.md, generated from the trace event catalogues (`gbhan events
 * --markdown`), so the documentation of every event and field cannot drift from what the
 * loader checks and the runs emit (a test compares the file with this output).
 */
import type { AnyTraceCatalogue, TraceFields, ValueList } from '@gbhan/radio-bus';
import { z } from 'zod';
import { TRACE_CATALOGUES } from './trace-events.js';

type Schema = z.core.$ZodType;

/** The description given anywhere along the optional / nullable / default wrappers. */
function descriptionOf(schema: Schema): string | undefined {
  let s: Schema | undefined = schema;
  for (let i = 0; i < 8 && s !== undefined; i++) {
    const d = (s as z.ZodType).description;
    if (d !== undefined) return d;
    s =
      s instanceof z.ZodOptional || s instanceof z.ZodNullable || s instanceof z.ZodDefault
        ? s.unwrap()
        : undefined;
  }
  return undefined;
}

const code = (v: unknown) => `\`${typeof v === 'string' ? v : JSON.stringify(v)}\``;

/** A field's type, for people: `EUI64`, `integer`, `"a" | "b"`, `array of {x, y}`, ... */
export function typeText(schema: Schema): string {
  if (schema instanceof z.ZodOptional) return typeText(schema.unwrap());
  if (schema instanceof z.ZodNullable) return `${typeText(schema.unwrap())} or null`;
  if (schema instanceof z.ZodDefault) return typeText(schema.unwrap());
  if (schema instanceof z.ZodString) {
    const patterns = (schema._zod.def.checks ?? []).map(
      (c) => (c._zod.def as { pattern?: RegExp }).pattern?.source,
    );
    if (patterns.includes('^[0-9a-f]{16}$')) return 'EUI64';
    if (patterns.includes('^[0-9a-f]{32}$')) return 'key (32 hex digits)';
    return 'string';
  }
  if (schema instanceof z.ZodNumber) return schema.isInt ? 'integer' : 'number';
  if (schema instanceof z.ZodBoolean) return 'boolean';
  if (schema instanceof z.ZodNull) return 'null';
  if (schema instanceof z.ZodLiteral) return [...schema.values].map(code).join(' or ');
  if (schema instanceof z.ZodEnum) return schema.options.map(code).join(', ');
  if (schema instanceof z.ZodUnion) return schema.options.map((o) => typeText(o)).join(' or ');
  if (schema instanceof z.ZodArray) return `array of ${typeText(schema.element)}`;
  if (schema instanceof z.ZodObject)
    return `{${Object.entries(schema.shape)
      .map(([k, v]) => (v instanceof z.ZodOptional ? `${k}?` : k))
      .join(', ')}}`;
  if (schema instanceof z.ZodRecord) return `object of ${typeText(schema.valueType)}`;
  return 'any JSON';
}

const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

function fieldRows(fields: TraceFields): string[] {
  return Object.entries(fields).map(([name, schema]) => {
    const optional = schema instanceof z.ZodOptional ? ', optional' : '';
    return `| \`${name}\` | ${cell(typeText(schema) + optional)} | ${cell(descriptionOf(schema) ?? '')} |`;
  });
}

/** A value list as a table; values with the same meaning share a row. */
function listRows(list: ValueList): string[] {
  const byMeaning = new Map<string, string[]>();
  for (const [value, meaning] of Object.entries(list)) {
    const values = byMeaning.get(meaning) ?? [];
    values.push(value);
    byMeaning.set(meaning, values);
  }
  return [...byMeaning].map(([meaning, values]) => `| ${values.map(code).join(', ')} | ${cell(meaning)} |`);
}

const anchor = (title: string) =>
  title
    .toLowerCase()
    .replace(/[^a-z0-9 -]/g, '')
    .replace(/ /g, '-');

/** The whole document. */
export function traceEventsMarkdown(catalogues: readonly AnyTraceCatalogue[] = TRACE_CATALOGUES): string {
  const out: string[] = [
    '# Trace events',
    '',
    '<!-- Generated from the trace event catalogues by `gbhan events --markdown`; do not edit:',
    '     a test fails when this file differs from what the catalogues give. -->',
    '',
    "Every line of a run's `trace.jsonl` is one event. The bus writes its own (`tx`, `rx`, `drop`, ...);",
    "a device's events are bus `device` events, `{t, type: device, radio, event: {type, ...}}`, with the",
    "device's event (from the package that emits it, below) in `event`. Each event is declared once, in",
    'the package that emits it (an event several packages emit, in the lowest one they share), with',
    "`defineTraceEvents` (`@gbhan/radio-bus`). A scenario's expectations are checked against these",
    'declarations when it loads (an unknown event type, field or value is `SCENARIO_BAD_EVENT`), and',
    "every event of the shipped scenarios' runs is checked against them, strictly (tests).",
    '',
    `${catalogues.map((c) => `[${c.name}](#${anchor(c.name)})`).join(' · ')}`,
    '',
  ];
  for (const c of catalogues) {
    out.push(`## ${c.name}`, '', `${c.description} ${c.types.length} events.`);
    const common = Object.keys(c.common);
    if (common.length > 0)
      out.push(
        '',
        `Every ${c.name} event also has ${common
          .map((k) => `\`${k}\` (${descriptionOf(c.common[k]!) ?? typeText(c.common[k]!)})`)
          .join(', ')}.`,
      );
    out.push('');
    for (const type of c.types) {
      const spec = c.specs[type]!;
      out.push(`### \`${type}\``, '', spec.description, '');
      const rows = fieldRows(spec.fields);
      if (rows.length === 0) out.push('No fields.', '');
      else out.push('| field | type | meaning |', '| --- | --- | --- |', ...rows, '');
    }
    for (const [title, list] of Object.entries(c.lists))
      out.push(`### ${title}`, '', '| value | meaning |', '| --- | --- |', ...listRows(list), '');
  }
  return `${out.join('\n').trimEnd()}\n`;
}
