// The compiler reads what the front end produced and nothing the checker wrote: percentages
// are resolved by the lowering (syntax/resolve.ts), so `compile` without `check` first gives
// the same desired state as after it.
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parsePolicy } from '../../src/syntax/index.js';
import { check, settingsOf } from '../../src/check/index.js';
import { compile } from '../../src/backends/index.js';

const files = [
  ...readdirSync('policies').filter((f) => f.endsWith('.pol')).map((f) => join('policies', f)),
  ...readdirSync('test/cases').filter((f) => f.endsWith('.pol')).map((f) => join('test/cases', f)),
];
const front = (file: string) =>
  parsePolicy(file, readFileSync(file, 'utf8'), { readFile: (p) => readFileSync(p, 'utf8'), resolve: (from, p) => join(dirname(from), p) });

describe('compile without check', () => {
  it.each(files)('%s: the same desired state with or without check() before', (file) => {
    const unchecked = front(file).policy;
    const alone = compile(unchecked, settingsOf(unchecked));
    const checkedPolicy = front(file).policy;
    const { settings } = check(checkedPolicy);
    expect(alone).toEqual(compile(checkedPolicy, settings));
  });

  it('a percentage is in bits per second straight from the parser', () => {
    const text = 'interface eth0 {\n  link down 10mbit up 2mbit\n  egress rate 100% {\n    class a rate 25% ceil 50% default\n  }\n}\n';
    const { policy, diagnostics } = parsePolicy('p.pol', text);
    expect(diagnostics).toEqual([]);
    const tree = policy.interfaces[0]!.egress!;
    expect(tree.rate.bps).toBe(2_000_000);
    expect([tree.classes[0]!.rate!.bps, tree.classes[0]!.ceil!.bps]).toEqual([500_000, 1_000_000]);
  });
});
