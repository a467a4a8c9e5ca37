// What a plan owns: the desired state's attachment points, devices and chains, plus what
// the last apply recorded in $QOSPOLICY_STATE_DIR/state.json.
import { describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BASE, compileText } from './helpers.js';
import { ownedOf, readStateFile, scopeFor, stateDir, writeStateFile } from '../../src/plan/index.js';
import { tempDir } from '../support/tmp.js';

const tmp = () => tempDir('qp-owned-');

describe('ownership and scope', () => {
  it('roots, hooks, ifb devices and chains of the desired state; required interfaces are read, not owned', () => {
    const state = compileText(BASE);
    expect(ownedOf(state.objects)).toEqual({ roots: ['ifb0', 'wan0'], hooks: ['wan0'], links: [{ name: 'ifb0', type: 'ifb' }], chains: [] });
    const imq = compileText(BASE, { ingress: 'imq' });
    expect(ownedOf(imq.objects).chains).toEqual([
      { family: 4, chain: 'qospolicy-pre', hook: 'PREROUTING' },
      { family: 6, chain: 'qospolicy-pre', hook: 'PREROUTING' },
    ]);
    expect(scopeFor(state)).toEqual({ devices: ['ifb0', 'wan0'], roots: ['ifb0', 'wan0'], hooks: ['wan0'], links: [{ name: 'ifb0', type: 'ifb' }], chains: [], modules: ['ifb'], sysfs: [] });
  });

  it('a previous apply adds what it owned (so it can be removed)', () => {
    const scope = scopeFor(compileText(BASE), { roots: ['imq0'], hooks: [], links: [{ name: 'imq0', type: 'imq' }], chains: [{ family: 4, chain: 'qospolicy-post', hook: 'POSTROUTING' }] });
    expect(scope.roots).toEqual(['ifb0', 'imq0', 'wan0']);
    expect(scope.devices).toEqual(['ifb0', 'imq0', 'wan0']);
    expect(scope.chains).toEqual([{ family: 4, chain: 'qospolicy-post', hook: 'POSTROUTING' }]);
  });

  it('state.json round-trips; none is undefined; a foreign or broken file is an error', () => {
    const dir = tmp();
    expect(readStateFile(dir)).toBeUndefined();
    const owned = ownedOf(compileText(BASE).objects);
    writeStateFile(dir, owned, { file: 'site.pol', sha256: 'ab' });
    expect(readStateFile(dir)).toEqual({ format: 'qospolicy-state', version: 1, policy: { file: 'site.pol', sha256: 'ab' }, owned });
    expect(JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')).format).toBe('qospolicy-state');
    writeFileSync(join(dir, 'state.json'), '{');
    expect(() => readStateFile(dir)).toThrow(/not valid JSON/);
    writeFileSync(join(dir, 'state.json'), '{"format":"qospolicy-state","version":2,"owned":{}}');
    expect(() => readStateFile(dir)).toThrow(/not a qospolicy state file/);
    // names go to tc batches: one that cannot be a device is refused, not read
    writeFileSync(join(dir, 'state.json'), JSON.stringify({ format: 'qospolicy-state', version: 1, owned: { roots: ['v0\nqdisc del dev v1 root'], hooks: [], links: [], chains: [] } }));
    expect(() => readStateFile(dir)).toThrow(/names "v0\\nqdisc del dev v1 root", which cannot be a device or chain name/);
  });

  it('the intent (incomplete) round-trips; a failed write leaves no temporary file and says why', () => {
    const dir = tmp();
    const owned = ownedOf(compileText(BASE).objects);
    writeStateFile(dir, owned, undefined, { since: '2026-12-07T00:00:00.000Z', pid: 42 });
    expect(readStateFile(dir)?.incomplete).toEqual({ since: '2026-12-07T00:00:00.000Z', pid: 42 });
    const notDir = join(dir, 'state.json'); // a file where a directory should be
    expect(() => writeStateFile(notDir, owned)).toThrow(/cannot write .*state\.json: a part of the path is not a directory/);
  });

  it('the state directory: $QOSPOLICY_STATE_DIR, else /var/lib/qospolicy', () => {
    expect(stateDir({ QOSPOLICY_STATE_DIR: '/tmp/x' })).toBe('/tmp/x');
    expect(stateDir({})).toBe('/var/lib/qospolicy');
  });
});
