// The registry lists every rule file exactly once, under the file's name, and every rule
// has its own test file.
import { describe, expect, it } from 'vitest';
import { existsSync, readdirSync } from 'node:fs';
import { RULES } from '../../src/check/registry.js';

const files = readdirSync('src/check/rules')
  .filter((f) => f.endsWith('.ts'))
  .map((f) => f.slice(0, -3))
  .sort();

describe('check registry', () => {
  it('lists every rule file once, named after its file', () => {
    expect(RULES.map((r) => r.name).sort()).toEqual(files);
  });
  it.each(files)('%s has a test file', (name) => {
    expect(existsSync(`test/check/${name}.test.ts`)).toBe(true);
  });
});
