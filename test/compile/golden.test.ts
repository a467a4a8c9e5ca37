// Golden outputs: every shipped policy and test case, per target and format. A change in
// generated commands shows up as a diff of these files in review. Update with `vitest -u`.
import { describe, expect, it } from 'vitest';
import { readFileSync, readdirSync } from 'node:fs';
import { basename } from 'node:path';
import { compileSource } from './pipeline.js';
import { renderSh } from '../../src/render/sh.js';
import { renderBatch } from '../../src/render/batch.js';
import { targetLabel } from '../../src/render/commands.js';
import type { Settings } from '../../src/check/index.js';

const files = [
  ...readdirSync('policies').filter((f) => f.endsWith('.pol')).map((f) => `policies/${f}`),
  ...readdirSync('test/cases').filter((f) => f.endsWith('.pol')).map((f) => `test/cases/${f}`),
].sort();

const TARGETS: Array<[string, Partial<Settings>]> = [
  ['default', {}],
  ['ifb', { ingress: 'ifb' }],
  ['imq', { ingress: 'imq' }],
  ['sch_tdma', { tdma: 'module' }],
];

/** Everything a target produces for a policy, as the golden files hold it. */
function outputs(file: string, text: string, override: Partial<Settings>) {
  const r = compileSource(file, text, override);
  // Diagnostics are golden too: a target may refuse a policy (e.g. `match mark` on IFB
  // ingress, several slots for sch_tdma), and the default target must always compile.
  const diagnostics = r.diagnostics.map((d) => `${d.span ? `${d.span.start.line}:${d.span.start.col} ` : ''}${d.severity} ${d.code}: ${d.message}`).join('\n') + '\n';
  if (!r.state) return { diagnostics, state: undefined };
  const batch = Object.entries(renderBatch(r.state, `golden ${file} (${targetLabel(r.state)})`)).map(([suffix, t]) => `==> ${suffix} <==\n${t}`).join('\n');
  return {
    diagnostics,
    state: r.state,
    files: { sh: renderSh(r.state, { source: file, version: 'golden' }), batch, json: JSON.stringify(r.state, null, 2) + '\n' },
  };
}

/** Each policy's outputs per target, computed once (the tests and the unread-file check share them). */
const cache = new Map<string, ReturnType<typeof outputs>>();
function outputsOf(file: string, target: string, override: Partial<Settings>) {
  const key = `${file} ${target}`;
  if (!cache.has(key)) cache.set(key, outputs(file, readFileSync(file, 'utf8'), override));
  return cache.get(key)!;
}

/** A target that changes nothing for this policy (its own target block already says so). */
function sameAsDefault(file: string, target: string, override: Partial<Settings>): boolean {
  if (target === 'default') return false;
  const o = outputsOf(file, target, override);
  const base = outputsOf(file, 'default', {});
  return o.diagnostics === base.diagnostics && JSON.stringify(o.files) === JSON.stringify(base.files);
}

/** The golden files a policy and target are compared with. */
function goldenNames(file: string, target: string, override: Partial<Settings>): string[] {
  if (sameAsDefault(file, target, override)) return [];
  const name = basename(file, '.pol');
  const exts = outputsOf(file, target, override).files ? ['diagnostics', 'sh', 'batch', 'json'] : ['diagnostics'];
  return exts.map((ext) => `${name}.${target}.${ext}`);
}

describe.each(files)('%s', (file) => {
  it.each(TARGETS)('target %s', async (target, override) => {
    const o = outputsOf(file, target, override);
    if (target === 'default') expect(o.state, o.diagnostics).toBeDefined();
    // A target that changes nothing has no golden files of its own: the list of such
    // targets is golden (same-as-default.txt).
    const [diagnostics, sh, batch, json] = goldenNames(file, target, override);
    if (!diagnostics) return;
    await expect(o.diagnostics).toMatchFileSnapshot(`golden/${diagnostics}`);
    if (!o.files) return;
    await expect(o.files.sh).toMatchFileSnapshot(`golden/${sh}`);
    await expect(o.files.batch).toMatchFileSnapshot(`golden/${batch}`);
    await expect(o.files.json).toMatchFileSnapshot(`golden/${json}`);
  });
});

describe('golden files', () => {
  it('the targets that change nothing for a policy are the ones listed', async () => {
    const same = files.flatMap((file) => TARGETS.filter(([t, o]) => sameAsDefault(file, t, o)).map(([t]) => `${basename(file, '.pol')} ${t}`));
    await expect(same.join('\n') + '\n').toMatchFileSnapshot('golden/same-as-default.txt');
  });

  it('every file in golden/ is compared by a test (remove the others)', () => {
    const read = new Set(['same-as-default.txt', ...files.flatMap((file) => TARGETS.flatMap(([t, o]) => goldenNames(file, t, o)))]);
    expect(readdirSync('test/compile/golden').filter((f) => !read.has(f))).toEqual([]);
  });
});
