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

describe.each(files)('%s', (file) => {
  const text = readFileSync(file, 'utf8');
  const name = basename(file, '.pol');
  const base = outputs(file, text, {});
  it.each(TARGETS)('target %s', async (target, override) => {
    const o = target === 'default' ? base : outputs(file, text, override);
    if (target === 'default') expect(o.state, o.diagnostics).toBeDefined();
    // A target that changes nothing for this policy (its own target block already says
    // so) is asserted equal to the default instead of repeating the same golden files.
    const same = target !== 'default' && o.diagnostics === base.diagnostics && JSON.stringify(o.files) === JSON.stringify(base.files);
    if (same) return expect(o.files).toEqual(base.files);
    await expect(o.diagnostics).toMatchFileSnapshot(`golden/${name}.${target}.diagnostics`);
    if (!o.files) return;
    await expect(o.files.sh).toMatchFileSnapshot(`golden/${name}.${target}.sh`);
    await expect(o.files.batch).toMatchFileSnapshot(`golden/${name}.${target}.batch`);
    await expect(o.files.json).toMatchFileSnapshot(`golden/${name}.${target}.json`);
  });
});
