// `--format markdown` is a pull-request comment: it always fits one (GitHub refuses comments
// over 65 536 characters; the plan keeps under 60 000). Changes alike in all but their object
// fold into one row with a count; the details and commands are cut, with a note, when they do
// not fit. Tested on a 10 000-class change made by bench/generate.js.
import { describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
// @ts-expect-error: a plain JS module of the benchmarks
import { policy } from '../../bench/generate.js';
import { main } from '../../src/cli/main.js';
import { MARKDOWN_LIMIT } from '../../src/plan/render.js';
import { makePlan, renderPlan, scopeFor } from '../../src/plan/index.js';
import { compileSource } from '../compile/pipeline.js';
import { tempDir } from '../support/tmp.js';

const N = 10_000;
const generate = policy as (n: number, opts?: { rates?: number[] }) => string;

async function diff(oldText: string, newText: string, ...args: string[]) {
  const dir = tempDir('qp-md-');
  writeFileSync(join(dir, 'old.pol'), oldText);
  writeFileSync(join(dir, 'new.pol'), newText);
  let out = '';
  let err = '';
  const code = await main(['diff', join(dir, 'old.pol'), join(dir, 'new.pol'), ...args], { out: (s) => void (out += s), err: (s) => void (err += s), color: false });
  return { code, out, err };
}

describe(`markdown of a ${N.toLocaleString()}-class change fits one GitHub comment`, () => {
  const before = generate(N);

  it('every class’s rate 100kbit → 200kbit: one row with the count, details and commands cut with a note', async () => {
    const md = await diff(before, generate(N, { rates: new Array(N).fill(200) }), '--format', 'markdown');
    expect(md.err).toBe('');
    expect(md.code).toBe(0);
    expect(Buffer.byteLength(md.out)).toBeLessThan(MARKDOWN_LIMIT); // bytes ≥ characters
    expect(MARKDOWN_LIMIT).toBeLessThanOrEqual(60_000);
    expect(md.out).toContain(`**Plan: 0 to add, ${N} to change, 0 to replace, 0 to remove.**`);
    // one row for all of them, the change written once
    expect(md.out).toMatch(/\| `~` \| \*\*10 000 classes\*\* \(e\.g\. `class v0 1:[0-9a-f]+`\) \| v0 egress › \* \| rate: 100kbit → 200kbit<br>burst: \d+b → \d+b \|/);
    expect(md.out.match(/^\| `~` /gm)).toHaveLength(1);
    expect(md.out).toContain('<details><summary>Changes in detail</summary>');
    expect(md.out).toContain("> This comment is shortened to fit GitHub's limit");
    expect(md.out).toMatch(/_Cut to fit one comment: [\d ]+ of [\d ]+ lines not shown; run `qospolicy plan`/);
    expect(md.out).toMatch(/<summary>Commands, in order \(10 000\)<\/summary>[\s\S]*_Cut to fit one comment: [\d ]+ of 10 000 commands not shown/);
    // code blocks are closed: every ``` has its pair
    expect((md.out.match(/^```/gm) ?? []).length % 2).toBe(0);
  }, 120_000);

  it('every class’s rate changes to a value of its own: folded by what changes, the values left to the details', async () => {
    const md = await diff(before, generate(N, { rates: Array.from({ length: N }, (_, i) => 101 + (i % 500)) }), '--format', 'markdown');
    expect(md.code).toBe(0);
    expect(Buffer.byteLength(md.out)).toBeLessThan(MARKDOWN_LIMIT); // bytes ≥ characters
    // a row per set of fields that change (rate alone where the burst sent stays), each with its count
    const rows = [...md.out.matchAll(/^\| `~` \| \*\*([\d ]+) classes\*\* .* \| (rate(?:, burst)?): values differ \(all under Changes in detail\), e\.g\.<br>rate: 100kbit → \d+kbit/gm)];
    expect(rows.map((r) => r[2])).toEqual(['rate', 'rate, burst']);
    expect(rows.reduce((n, r) => n + Number(r[1]!.replace(/ /g, '')), 0)).toBe(N);
    expect(md.out.match(/^\| `~` /gm)).toHaveLength(2);
  }, 120_000);

  it('plan (against a system without the policy): 10 000 classes added, their leaves and filters, in one comment', async () => {
    const state = compileSource('site.pol', before).state!;
    const plan = makePlan(state, [], scopeFor(state), { policy: { file: 'site.pol', sha256: '' } });
    expect(plan.summary.create).toBeGreaterThan(2 * N);
    const md = renderPlan(plan, 'markdown');
    expect(Buffer.byteLength(md)).toBeLessThan(MARKDOWN_LIMIT);
    expect(md).toMatch(/^### qospolicy plan: `site\.pol`/);
    expect(md).toMatch(/\| `\+` \| \*\*[\d ]+ classes\*\* \(e\.g\. `class v0 1:[0-9a-f]+`\) \| v0 egress › \* \|/);
    expect(md).toContain('commands not shown');
  }, 120_000);

  it('a small plan is not folded or cut (the goldens in test/plan/cases show whole plans)', async () => {
    const small = await diff(generate(2), generate(2, { rates: [200, 200] }), '--format', 'markdown');
    expect(small.out).not.toContain('Cut to fit');
    expect(small.out).not.toContain('shortened');
    expect(small.out.match(/^\| `~` /gm)).toHaveLength(2);
  });
});
