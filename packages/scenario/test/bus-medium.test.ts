/** `gbhan bus --medium`: a medium file chooses the propagation model, and a mistake names the file and field. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RadioBus } from '@gbhan/radio-bus';
import { describe, expect, it } from 'vitest';
import { busConfigFromOptions } from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'gbhan-medium-'));
function medium(name: string, text: string) {
  const file = join(dir, name);
  writeFileSync(file, text);
  return busConfigFromOptions({ host: '127.0.0.1', port: '0', seed: '1', medium: file }).config;
}

describe('gbhan bus --medium', () => {
  it('takes a model by name with its parameters', () => {
    const config = medium(
      'site.yaml',
      `model: matrix
matrix:
  links:
    - { from: "00124B0000000001", to: "00124b0000000002", lossDb: 72, band: GB868 }
  defaultLossDb: 200
`,
    );
    expect(config.model).toBe('matrix');
    expect(config.matrix?.links[0]).toEqual({
      from: '00124b0000000001',
      to: '00124b0000000002',
      lossDb: 72,
      band: 'GB868',
    });
    new RadioBus(config).close();
    expect(medium('open.json', '{"model": "free-space"}').model).toBe('free-space');
  });

  it('names the file and the field of a mistake', () => {
    expect(() =>
      medium('bad.yaml', 'model: matrix\nmatrix:\n  links:\n    - { from: 1, to: 2, lossDb: 70 }\n'),
    ).toThrow(
      /bad\.yaml: medium config: matrix\.links\.0\.from: not an EUI64: 1 \(16 hex digits, in quotes if all digits\)/,
    );
    expect(() => medium('walls.yaml', 'model: free-space\nwalls: [{ from: [0, 0], to: [1, 1] }]\n')).toThrow(
      /walls\.yaml: medium config: walls: not used by the free-space model/,
    );
  });
});
