// The npm package as a router gets it: `npm pack` in a copy of the repository's files (as a
// fresh clone has them; its prepack builds the bundle), `npm install -g` of the tarball into a
// temporary prefix, then the installed command. No kernel needed.
import { describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { tempDir } from '../support/tmp.js';

const npm = (args: string[], cwd: string) => execFileSync('npm', [...args, '--no-audit', '--no-fund', '--loglevel=error'], { cwd, encoding: 'utf8', env: { ...process.env, npm_config_update_notifier: 'false' } });

describe('npm package', () => {
  const work = tempDir('qp-pack-');
  const prefix = join(work, 'prefix');
  const bin = join(prefix, 'bin', 'qospolicy');
  const installed = join(prefix, 'lib', 'node_modules', 'qospolicy');

  it('packs bin, the bundle, docs, policies and patches, not the tests; installs into an empty prefix and runs', () => {
    const clone = join(work, 'clone');
    const files = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '-z'], { encoding: 'utf8' }).split('\0').filter(Boolean);
    for (const f of files) {
      mkdirSync(join(clone, dirname(f)), { recursive: true });
      cpSync(f, join(clone, f));
    }
    symlinkSync(resolve('node_modules'), join(clone, 'node_modules'));
    const packed = JSON.parse(npm(['pack', '--json', '--pack-destination', work], clone)) as Array<{ filename: string; files: Array<{ path: string }> }>;
    const paths = packed[0]!.files.map((f) => f.path);
    expect(paths).toEqual(expect.arrayContaining(['bin/qospolicy.js', 'bin/load.js', 'dist/bundle/qospolicy.cjs', 'README.md', 'docs/language.md', 'policies/branch-office.pol', 'patches/sch_tdma/sch_tdma.c']));
    expect(paths.filter((p) => /^(test|src|bench|scripts|\.ci)\//.test(p) || (p.startsWith('dist/') && !p.startsWith('dist/bundle/')))).toEqual([]);

    npm(['install', '-g', '--prefix', prefix, join(work, packed[0]!.filename)], work);
    const pkg = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8')) as { version: string };
    expect(execFileSync(bin, ['--version'], { encoding: 'utf8' }).trim()).toBe(pkg.version);
    const check = spawnSync(bin, ['check', join(installed, 'policies', 'branch-office.pol')], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
    expect(check.stderr + check.stdout).not.toMatch(/error/);
    expect(check.status).toBe(0);
    // The bundle holds every dependency: the install brings no node_modules of its own.
    expect(existsSync(join(installed, 'node_modules'))).toBe(false);
  }, 300_000);

  it('without its bundle, the command says so in one line, without a stack trace', () => {
    rmSync(join(installed, 'dist', 'bundle', 'qospolicy.cjs'));
    const r = spawnSync(bin, ['--version'], { encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^qospolicy: \S+qospolicy\.cjs is missing: run `npm run build` in the package's directory\n$/);
  });
});
