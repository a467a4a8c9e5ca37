// The collection as Ansible itself reads it: ansible-doc renders the module's documentation
// from its DOCUMENTATION/EXAMPLES/RETURN blocks, and both playbooks pass --syntax-check.
import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { isCI } from '../support/netns.js';
import { tempDir } from '../support/tmp.js';

const COLLECTIONS = resolve(import.meta.dirname, '../../ansible/collections');

function haveAnsible(): boolean {
  if (!spawnSync('ansible-doc', ['--version']).error) return true;
  if (isCI()) throw new Error('ansible-doc is missing under CI: apt-get install -y ansible-core (see .ci/run)');
  return false;
}

describe.skipIf(!haveAnsible())('the qospolicy.fleet collection', () => {
  const env = () => ({ ANSIBLE_COLLECTIONS_PATH: COLLECTIONS, ANSIBLE_HOME: tempDir('qp-ansible-home-'), ANSIBLE_NOCOLOR: '1' });

  it('ansible-doc renders the module: every option, examples, return values', { timeout: 60_000 }, async () => {
    const r = await execa('ansible-doc', ['--json', 'qospolicy.fleet.qospolicy'], { env: env() });
    const doc = JSON.parse(r.stdout)['qospolicy.fleet.qospolicy'];
    expect(Object.keys(doc.doc.options).sort()).toEqual(['binary', 'confirm', 'plan_format', 'src', 'state', 'state_dir', 'target']);
    expect(doc.doc.options.state.choices).toEqual(['present', 'absent']);
    expect(doc.examples).toContain('qospolicy confirm');
    expect(Object.keys(doc.return)).toEqual(expect.arrayContaining(['plan', 'summary', 'pending_confirm', 'diagnostics']));
    const text = await execa('ansible-doc', ['qospolicy.fleet.qospolicy'], { env: env() });
    expect(text.stdout).toMatch(/QOSPOLICY.FLEET.QOSPOLICY[\s\S]*plans first \(`qospolicy plan FILE -o PLAN.json'\)/);
  });

  it.each(['rollout', 'plan_comment'])('playbook qospolicy.fleet.%s passes --syntax-check', { timeout: 60_000 }, async (name) => {
    const r = await execa('ansible-playbook', ['--syntax-check', '-i', 'localhost,', `qospolicy.fleet.${name}`], { env: env(), reject: false, all: true });
    expect(r.exitCode, String(r.all)).toBe(0);
    expect(String(r.all)).toContain(join('playbooks', `${name}.yml`));
  });
});
