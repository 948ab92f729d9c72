/**
 * `gbhan events`: the trace event catalogue, one event per line with its fields (`--markdown`:
 * docs/trace-events.md, every field with its type and meaning).
 */
import { z } from 'zod';
import { TRACE_CATALOGUES } from './trace-events.js';
import { traceEventsMarkdown } from './trace-events-doc.js';

export function runEventsCommand(opts: { markdown?: boolean }): string {
  if (opts.markdown) return traceEventsMarkdown();
  const lines: string[] = [];
  for (const c of TRACE_CATALOGUES) {
    lines.push(`${c.name}: ${c.description}`);
    for (const type of c.types) {
      const spec = c.specs[type]!;
      const fields = Object.entries(spec.fields).map(([k, v]) => (v instanceof z.ZodOptional ? `${k}?` : k));
      lines.push(`  ${type} {${fields.join(', ')}}  ${spec.description}`);
    }
    lines.push('');
  }
  lines.push('Fields with their types and meanings: gbhan events --markdown (docs/trace-events.md).');
  return `${lines.join('\n')}\n`;
}
