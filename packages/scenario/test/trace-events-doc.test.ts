/**
 * docs/trace-events.md documents every trace event and field, generated from the catalogues:
 * it fails here when it differs from what they give (the fix: regenerate it).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { runEventsCommand, TRACE_CATALOGUES, traceEventsMarkdown, typeText } from '../src/index.js';

const ROOT = join(import.meta.dirname, '../../..');

describe('docs/trace-events.md', () => {
  it('is what the catalogues generate (regenerate: gbhan events --markdown > docs/trace-events.md)', () => {
    expect(readFileSync(join(ROOT, 'docs/trace-events.md'), 'utf8')).toBe(traceEventsMarkdown());
  });

  it('has every event of every catalogue, and `gbhan events` lists them', () => {
    const doc = traceEventsMarkdown();
    const list = runEventsCommand({});
    for (const c of TRACE_CATALOGUES)
      for (const t of c.types) {
        expect(doc).toContain(`### \`${t}\``);
        expect(list).toContain(`  ${t} {`);
      }
    expect(runEventsCommand({ markdown: true })).toBe(doc);
  });

  it('writes field types for people', () => {
    expect(
      typeText(
        z
          .string()
          .regex(/^[0-9a-f]{16}$/)
          .nullable(),
      ),
    ).toBe('EUI64 or null');
    expect(typeText(z.number().int().optional())).toBe('integer');
    expect(typeText(z.enum(['a', 'b']))).toBe('`a`, `b`');
    expect(typeText(z.array(z.strictObject({ x: z.number(), z: z.number().optional() })))).toBe(
      'array of {x, z?}',
    );
    expect(typeText(z.union([z.number(), z.literal('unlimited')]))).toBe('number or `unlimited`');
  });
});
