// The README's diagnostic table and Quick start stay true to the code.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { CODES } from '../src/diagnostics/codes.js';

const readme = readFileSync('README.md', 'utf8');

describe('README', () => {
  it('lists every diagnostic code with its severity and title (node scripts/readme-codes.mjs --write)', () => {
    for (const [code, { severity, title }] of Object.entries(CODES)) {
      expect(readme).toContain(`| ${code} | ${severity} | ${title} |`);
    }
  });

  it('Quick start has exactly two commands, and the policy it compiles exists', () => {
    const quick = /## Quick start\n\n```sh\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';
    const commands = quick.trim().split('\n');
    expect(commands).toHaveLength(2);
    const file = /compile (\S+\.pol)/.exec(commands[0])?.[1];
    expect(file).toBeDefined();
    expect(() => readFileSync(file!)).not.toThrow();
    expect(commands[1]).toMatch(/^npm test\b/);
  });

  it('.ci/run runs exactly the Quick start\'s test command, after its lock check', () => {
    const ci = readFileSync('.ci/run', 'utf8').split('\n').filter((l) => l && !l.startsWith('#'));
    expect(ci.at(-1)).toBe('npm test');
    expect(ci.some((l) => l.startsWith('git diff --exit-code -- package-lock.json'))).toBe(true);
  });

  it('the speed figures name the commit bench/results.json was measured at', () => {
    const { commit } = JSON.parse(readFileSync('bench/results.json', 'utf8')).machine as { commit: string };
    expect(readme).toMatch(new RegExp(`Speed \\(\`npm run bench\` at commit \`${commit}\``));
  });
});
