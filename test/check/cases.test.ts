// Every policy in test/cases/ checks without errors. Warnings are listed here per file: the
// DESIGN.md sketch has a tdma block without a `default` slot, so it warns QP3005 (its
// unmatched traffic goes to the first slot, 'beacon') and nothing else.
import { describe, expect, it } from 'vitest';
import { readFileSync, readdirSync } from 'node:fs';
import { diagnosticsOf } from './harness.js';

const EXPECTED_WARNINGS: Record<string, string[]> = {
  'design-sketch.pol': ['QP3005'],
};

const DIR = 'test/cases';
const files = readdirSync(DIR).filter((f) => f.endsWith('.pol')).sort();

describe('test/cases', () => {
  it.each(files)('%s checks clean', (file) => {
    const ds = diagnosticsOf(readFileSync(`${DIR}/${file}`, 'utf8'), {}, `${DIR}/${file}`);
    const listing = ds.map((d) => `${d.span?.start.line}:${d.span?.start.col} ${d.code} ${d.message}`).join('\n');
    expect(ds.filter((d) => d.severity === 'error'), listing).toEqual([]);
    expect([...new Set(ds.map((d) => d.code))].sort(), listing).toEqual(EXPECTED_WARNINGS[file] ?? []);
  });
  it("names the design sketch's first slot in its QP3005", () => {
    const [d] = diagnosticsOf(readFileSync(`${DIR}/design-sketch.pol`, 'utf8'));
    expect(d.message).toContain("'beacon'");
  });
});
