// Golden outputs: every shipped policy and test case, per target and format. A change in
// generated commands shows up as a diff of these files in review. Update with `vitest -u`.
import { describe, expect, it } from 'vitest';
import { readFileSync, readdirSync } from 'node:fs';
import { basename } from 'node:path';
import { compileSource } from './pipeline.js';
import { renderSh } from '../../src/render/sh.js';
import { renderBatch } from '../../src/render/batch.js';
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

describe.each(files)('%s', (file) => {
  const text = readFileSync(file, 'utf8');
  const name = basename(file, '.pol');
  it.each(TARGETS)('target %s', async (target, override) => {
    const r = compileSource(file, text, override);
    // Diagnostics are golden too: a target may refuse a policy (e.g. `match mark` on IFB
    // ingress, several slots for sch_tdma), and the default target must always compile.
    const diagnostics = r.diagnostics.map((d) => `${d.span ? `${d.span.start.line}:${d.span.start.col} ` : ''}${d.severity} ${d.code}: ${d.message}`);
    await expect(diagnostics.join('\n') + '\n').toMatchFileSnapshot(`golden/${name}.${target}.diagnostics`);
    if (target === 'default') expect(r.state, diagnostics.join('\n')).toBeDefined();
    if (!r.state) return;
    const settings = `ingress ${r.settings.ingress}, tdma ${r.settings.tdma}`;
    await expect(renderSh(r.state, { source: file, version: 'golden', settings })).toMatchFileSnapshot(`golden/${name}.${target}.sh`);
    const batch = renderBatch(r.state, `golden ${file} (${settings})`);
    const joined = Object.entries(batch).map(([suffix, t]) => `==> ${suffix} <==\n${t}`).join('\n');
    await expect(joined).toMatchFileSnapshot(`golden/${name}.${target}.batch`);
    await expect(JSON.stringify(r.state, null, 2) + '\n').toMatchFileSnapshot(`golden/${name}.${target}.json`);
  });
});
