// Golden outputs of `qospolicy diff OLD NEW` for pairs of policy versions in test/plan/cases/
// (old.pol → new.pol, the change described on their first line): text, markdown and JSON.
// A change in what the planner decides shows up as a diff of these files. Update with `vitest -u`.
import { describe, expect, it } from 'vitest';
import { readdirSync } from 'node:fs';
import { main } from '../../src/cli/main.js';

const CASES = 'test/plan/cases';
const cases = readdirSync(CASES, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort();

async function diff(name: string, ...args: string[]) {
  let out = '';
  let err = '';
  const code = await main(['diff', `${CASES}/${name}/old.pol`, `${CASES}/${name}/new.pol`, ...args], { out: (s) => void (out += s), err: (s) => void (err += s), color: false });
  return { code, out, err };
}

describe.each(cases)('diff %s', (name) => {
  it('text, markdown and json', async () => {
    const text = await diff(name, '--steps');
    expect(text.err).toBe('');
    expect(text.code).toBe(0);
    await expect(text.out).toMatchFileSnapshot(`cases/${name}/diff.txt`);
    await expect((await diff(name, '--format', 'markdown')).out).toMatchFileSnapshot(`cases/${name}/diff.md`);
    const json = (await diff(name, '--format', 'json')).out;
    await expect(json).toMatchFileSnapshot(`cases/${name}/diff.json`);
    const plan = JSON.parse(json);
    expect(plan).toMatchObject({ format: 'qospolicy-plan', version: 1, mode: 'diff', errors: [] });
    // the text is rendered from the same data: one line per change, the same summary
    expect(text.out).toContain(name === 'identical' ? 'No changes.' : `Plan: ${plan.summary.create} to add, ${plan.summary.update} to change, ${plan.summary.replace} to replace, ${plan.summary.delete} to remove.`);
    for (const c of plan.changes) expect(text.out).toContain(c.address);
  });

  it('--detailed-exitcode: 0 without changes, 2 with', async () => {
    expect((await diff(name, '--detailed-exitcode')).code).toBe(name === 'identical' ? 0 : 2);
  });
});

it('every file in a case is read: old.pol, new.pol and the three goldens (remove the others)', () => {
  const read = ['diff.json', 'diff.md', 'diff.txt', 'new.pol', 'old.pol'];
  expect(cases.flatMap((name) => readdirSync(`${CASES}/${name}`).filter((f) => !read.includes(f)).map((f) => `${name}/${f}`))).toEqual([]);
  expect(readdirSync(CASES).filter((f) => !cases.includes(f))).toEqual([]);
});
