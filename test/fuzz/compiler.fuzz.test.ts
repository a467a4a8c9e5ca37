// Fuzz target over the compiler, as the CLI runs it (issue #20): generated policies (valid
// ones, and ones full of hostile names, huge numbers, stray characters, broken braces) and
// mutated real policies, under hostile file names. For every case:
//   - no internal error, no throw, no case over 2 s;
//   - output bounded (diagnostics and scripts);
//   - `check --json` prints valid JSON;
//   - every accepted sh script passes `sh -n`, and no policy text (a name, the file name)
//     stands in it unquoted: outside comments and '…' strings only the script's own words.
// FUZZ_SEED picks the cases (a fixed default, printed, so a failure can be replayed);
// FUZZ_RUNS how many (the default keeps CI well under a minute).
import { beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { execa } from 'execa';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { main } from '../../src/cli/main.js';
import { parsePolicy, type ClassNode, type Policy } from '../../src/syntax/index.js';
import { KEYWORDS as SH_WORDS } from '../../src/render/sh.js';
import { tempDir } from '../support/tmp.js';

const DEFAULT_SEED = 20_2026;
const DEFAULT_RUNS = 300;
const envInt = (name: string, fallback: number): number => {
  const v = process.env[name];
  if (v === undefined || v === '') return fallback;
  const n = Number(v);
  if (!Number.isSafeInteger(n)) throw new Error(`${name}=${v} is not a whole number`);
  return n;
};
const SEED = envInt('FUZZ_SEED', DEFAULT_SEED);
const RUNS = envInt('FUZZ_RUNS', DEFAULT_RUNS);

const CASE_MS = 2000;
const MAX_DIAGNOSTICS_OUT = 300_000;
const MAX_SCRIPT_OUT = 8 * 1024 * 1024;

// ---- Generators ----

/** Text an attacker or a bad paste puts where a name goes. */
const HOSTILE = [
  "$(touch PWNED)", '`id`', "a'b", 'a;reboot', 'a|b', 'a&b', 'x\ntouch PWNED', 'eth+', 'eth*', '-i', '--help',
  '\x1b[2J\x1b[31m', '\x07', 'a\rb', '\u202eevil', '\u2028', 'ü', '😀', 'constructor', '__proto__', 'toString',
  'hasOwnProperty', '.', '..', 'a/b', 'eth0:1', '"q"', '\\', 'x'.repeat(300), 'a b', '{', '}', '#', '\t', '',
];
const NUMBERS = ['0', '1', '7', '8', '64', '1500', '65535', '65536', '4294967295', '4294967296', '9007199254740993', '9'.repeat(30), '1' + '0'.repeat(320), '1.5', '0x10', '0x' + 'f'.repeat(40)];
const RATE_UNITS = ['bit', 'kbit', 'mbit', 'gbit', 'tbit', 'kbps', 'mbps', '%', '', 'ms', 'constructor', 'mbitt'];
const TIME_UNITS = ['ms', 'us', 's', 'ns', '', 'mbit', 'constructor'];

const ident = fc.stringMatching(/^[a-z][a-z0-9_-]{0,6}$/).filter((s) => !SH_WORDS.has(s));
const name = fc.oneof({ weight: 6, arbitrary: ident }, { weight: 2, arbitrary: fc.constantFrom(...HOSTILE) }, { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 8 }) });
const num = fc.oneof({ weight: 4, arbitrary: fc.integer({ min: 0, max: 70000 }).map(String) }, { weight: 1, arbitrary: fc.constantFrom(...NUMBERS) });
const rate = fc.oneof(
  { weight: 6, arbitrary: fc.tuple(fc.integer({ min: 1, max: 999 }), fc.constantFrom('kbit', 'mbit')).map(([n, u]) => `${n}${u}`) },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom(...NUMBERS), fc.constantFrom(...RATE_UNITS)).map(([n, u]) => `${n}${u}`) },
);
const time = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: 0, max: 20 }).map((n) => `${n}ms`) },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom(...NUMBERS), fc.constantFrom(...TIME_UNITS)).map(([n, u]) => `${n}${u}`) },
);
const port = fc.oneof(num, fc.tuple(num, num).map(([a, b]) => `${a}-${b}`), fc.tuple(num, num).map(([a, b]) => `${a}:${b}`));
const addr = fc.oneof(
  fc.tuple(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 40 })).map(([a, b, l]) => `10.${a}.${b}.0/${l}`),
  fc.constantFrom('2001:db8::/32', '::1', '999.1.1.1', '10.0.0.0/' + '9'.repeat(40), 'fe80::1/129'),
  name,
);
const criterion = fc.oneof(
  fc.constantFrom('tcp', 'udp', 'icmp', 'syn', 'ack'),
  fc.tuple(fc.constantFrom('sport', 'dport', 'port'), fc.constantFrom('', '!'), fc.array(port, { minLength: 1, maxLength: 3 })).map(([k, n, ps]) => `${k} ${n}${ps.join(', ')}`),
  fc.tuple(fc.constantFrom('src', 'dst', 'host'), fc.constantFrom('', '!'), fc.array(addr, { minLength: 1, maxLength: 2 })).map(([k, n, as]) => `${k} ${n}${as.join(', ')}`),
  fc.tuple(fc.constantFrom('ef', 'af41', 'cs1', 'constructor', '63', '64'), fc.constant('')).map(([d]) => `dscp ${d}`),
  fc.tuple(fc.constantFrom('mark', 'connmark'), num, fc.option(num)).map(([k, v, m]) => `${k} ${v}${m ? `/${m}` : ''}`),
  fc.tuple(fc.constantFrom('<', '>', ''), port).map(([op, p]) => `len ${op}${op ? p.split(/[-:]/)[0] : p}`),
  fc.constantFrom('mac 00:11:22:33:44:55', 'mac 00-11-22-33-44-55', 'mac zz'),
  name.map((n) => `service ${n}`),
);
const match = fc.array(criterion, { minLength: 1, maxLength: 3 }).map((cs) => `match ${cs.join(' ')}`);
const leaf = fc.constantFrom('leaf pfifo limit 100', 'leaf bfifo limit 64kb', 'leaf fq_codel target 5ms', 'leaf sfq perturb 10', 'leaf cake', 'leaf constructor', 'leaf pfifo constructor 5');

const classTree: fc.Arbitrary<string> = fc.letrec<{ cls: string }>((tie) => ({
  cls: fc
    .tuple(
      name,
      rate,
      fc.option(rate, { nil: undefined }),
      fc.option(fc.integer({ min: 0, max: 9 }), { nil: undefined }),
      fc.array(match, { maxLength: 3 }),
      fc.option(leaf, { nil: undefined }),
      fc.oneof({ weight: 4, arbitrary: fc.constant([] as string[]) }, { weight: 1, arbitrary: fc.array(tie('cls') as fc.Arbitrary<string>, { maxLength: 2 }) }),
    )
    .map(([n, r, c, p, ms, l, kids]) => {
      const head = `class ${n} rate ${r}${c ? ` ceil ${c}` : ''}${p !== undefined ? ` prio ${p}` : ''}`;
      const body = [...ms, ...(l ? [l] : []), ...kids];
      return body.length ? `${head} {\n${body.join('\n')}\n}` : head;
    }),
})).cls;

const tree = fc
  .tuple(fc.constantFrom('ingress', 'egress', 'ingress imq', 'ingress ifb'), rate, fc.array(classTree, { minLength: 1, maxLength: 4 }), fc.boolean())
  .map(([dir, r, classes, withDefault]) => `${dir} rate ${r} {\n${classes.join('\n')}\n${withDefault ? 'class rest rate 8kbit default' : ''}\n}`);

const iface = fc
  .tuple(name, fc.option(fc.tuple(rate, rate, fc.constantFrom('', 'pppoe-llc', 'atm overhead 40', `overhead ${'9'.repeat(320)}`)), { nil: undefined }), fc.array(tree, { maxLength: 2 }))
  .map(([n, link, trees]) => `interface ${n} {\n${link ? `link down ${link[0]} up ${link[1]} ${link[2]}\n` : ''}${trees.join('\n')}\n}`);

const tdma = fc
  .tuple(name, time, fc.array(fc.tuple(name, time, time, fc.boolean(), fc.option(match, { nil: undefined })), { minLength: 1, maxLength: 3 }))
  .map(([n, frame, slots]) => `tdma ${n} {\nframe ${frame}\n${slots.map(([s, at, len, d, m]) => `slot ${s} at ${at} length ${len}${d ? ' default' : ''}${m ? ` { ${m} }` : ''}`).join('\n')}\n}`);

const topLevel = fc.oneof(
  { weight: 5, arbitrary: iface },
  { weight: 1, arbitrary: tdma },
  { weight: 1, arbitrary: fc.constantFrom('target { ingress imq }', 'target { ingress ifb\n tdma module sch_tdma }', 'target { features htb, u32 }', 'target { tdma taprio }') },
  { weight: 1, arbitrary: fc.tuple(name, fc.oneof(rate, num, addr)).map(([n, v]) => `let ${n} = ${v}`) },
  { weight: 1, arbitrary: fc.tuple(name, fc.array(port, { minLength: 1, maxLength: 2 })).map(([n, ps]) => `service ${n} = udp ${ps.join(', ')}`) },
  { weight: 1, arbitrary: fc.tuple(name, fc.array(name, { minLength: 1, maxLength: 2 }), rate, fc.array(classTree, { minLength: 1, maxLength: 2 })).map(([n, ms, r, cs]) => `shared ${n} egress on ${ms.join(', ')} rate ${r} {\n${cs.join('\n')}\nclass rest rate 8kbit default\n}`) },
  { weight: 1, arbitrary: fc.constantFrom('include "/dev/zero"', 'include "\\q"', 'include "nope.pol"', 'include "site.pol"') },
);

/** Damage a text: insert noise, cut a piece out, or drop a brace. */
const damage = (text: string) =>
  fc.oneof(
    { weight: 3, arbitrary: fc.constant(text) },
    { weight: 1, arbitrary: fc.tuple(fc.nat(), fc.constantFrom(...HOSTILE, '{', '}', '"', '\u0000', '$$$$', '{'.repeat(100))).map(([i, s]) => text.slice(0, i % (text.length + 1)) + s + text.slice(i % (text.length + 1))) },
    { weight: 1, arbitrary: fc.tuple(fc.nat(), fc.nat({ max: 40 })).map(([i, n]) => text.slice(0, i % (text.length + 1)) + text.slice((i % (text.length + 1)) + n)) },
  );

const generated = fc.array(topLevel, { minLength: 1, maxLength: 4 }).map((parts) => parts.join('\n') + '\n').chain(damage);

const SEEDS = ['test/cases', 'policies']
  .flatMap((dir) => readdirSync(dir).filter((f) => f.endsWith('.pol')).map((f) => readFileSync(join(dir, f), 'utf8')))
  .filter((t) => !t.includes('include '));
/** A real policy with one word replaced by hostile text. */
const mutated = fc.tuple(fc.constantFrom(...SEEDS), fc.nat(), fc.oneof(name, num, rate, fc.constantFrom('{', '}', '\n'))).map(([text, n, repl]) => {
  const words = text.split(/(\s+)/);
  words[(n % Math.ceil(words.length / 2)) * 2] = repl;
  return words.join('');
});

const FILE_NAMES = ['site.pol', 'site\ntouch PWNED\n#.pol', "it's.pol", '$(touch PWNED).pol', 'site\x1b[2J.pol', 'a b.pol', '-site.pol'];

// ---- Properties ----

function classesOf(cs: ClassNode[], out: string[]): string[] {
  for (const c of cs) {
    out.push(c.name.text);
    classesOf(c.children, out);
  }
  return out;
}

/** Every name a policy puts in its output: interfaces, groups, members, classes, slots. */
function namesOf(p: Policy): string[] {
  const out: string[] = [];
  for (const i of p.interfaces) {
    out.push(i.name.text);
    for (const t of [i.ingress, i.egress]) if (t) classesOf(t.classes, out);
  }
  for (const s of p.shared) out.push(s.name.text, ...s.members.map((m) => m.text), ...classesOf(s.tree.classes, []));
  for (const t of p.tdma) out.push(t.iface.text, ...t.slots.map((s) => s.name.text));
  return out;
}

/** The script with comments and single-quoted strings taken out: what the shell reads as code. */
function unquoted(script: string): string {
  return script
    .split('\n')
    .filter((l) => !/^\s*#/.test(l))
    .join('\n')
    .replace(/'[^']*'/g, "''");
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

async function run(args: string[]) {
  let out = '';
  let err = '';
  const code = await main(args, { out: (s) => void (out += s), err: (s) => void (err += s), color: false });
  return { code, out, err };
}

describe('fuzz: the compiler under hostile input', () => {
  const dir = tempDir('qp-fuzz-');
  // Printed so a failure in CI can be replayed: FUZZ_SEED=… FUZZ_RUNS=… npx vitest run test/fuzz
  console.log(`fuzz: FUZZ_SEED=${SEED} FUZZ_RUNS=${RUNS}`);

  /** Words the script itself is made of (`run`, `fail`, `quiet`…): a name equal to one proves nothing. */
  let scriptWords = new Set<string>();
  beforeAll(async () => {
    const file = join(dir, 'baseline.pol');
    writeFileSync(file, 'interface wan0 {\n  egress rate 10mbit {\n    class a rate 1mbit ceil 10mbit { match udp dport 5060 }\n    class b rate 1mbit ceil 10mbit default\n  }\n}\n');
    const r = await run(['compile', file]);
    scriptWords = new Set(unquoted(r.out).match(/[A-Za-z0-9_-]+/g));
  });

  it(`${RUNS} policies: no internal error, bounded time and output, every accepted script valid and quoted`, async () => {
    let accepted = 0;
    await fc.assert(
      fc.asyncProperty(fc.oneof(generated, mutated), fc.constantFrom(...FILE_NAMES), fc.constantFrom('ifb', 'imq', 'imq,sch_tdma'), async (text, fileName, target) => {
        const file = join(dir, fileName);
        writeFileSync(file, text);
        const started = performance.now();
        const json = await run(['check', file, '--json', '--target', target]);
        const sh = await run(['compile', file, '--target', target]);
        const elapsed = performance.now() - started;

        for (const r of [json, sh]) {
          expect(r.err).not.toContain('internal error');
          expect(r.code === 0 || r.code === 1).toBe(true);
        }
        expect(elapsed, 'check + compile of one policy').toBeLessThan(CASE_MS);
        expect(json.out.length).toBeLessThan(MAX_DIAGNOSTICS_OUT);
        expect(sh.err.length).toBeLessThan(MAX_DIAGNOSTICS_OUT);
        expect(sh.out.length).toBeLessThan(MAX_SCRIPT_OUT);
        expect(() => JSON.parse(json.out)).not.toThrow();
        expect(sh.err, 'diagnostics reach a terminal without control characters').not.toMatch(/[\x00-\x09\x0b-\x1f\x7f\u2028\u2029\u202a-\u202e]/);
        if (sh.code !== 0) return;

        accepted++;
        const syntax = await execa('sh', ['-n'], { input: sh.out, reject: false });
        expect(syntax.exitCode, `sh -n: ${syntax.stderr}`).toBe(0);
        const code = unquoted(sh.out);
        expect(code).not.toMatch(/[^\x20-\x7e\n]/);
        // Every hostile payload is marked PWNED: outside comments and quotes it must not be.
        expect(code).not.toContain('PWNED');
        const names = [...namesOf(parsePolicy(file, text).policy), fileName];
        for (const n of names) {
          if (SH_WORDS.has(n) || scriptWords.has(n) || n === '') continue; // the script's own words (an interface named `ip`)
          expect(code, `'${n}' stands unquoted in the script`).not.toMatch(new RegExp(`(^|[^A-Za-z0-9_'-])${escapeRe(n)}($|[^A-Za-z0-9_'-])`));
        }
      }),
      { seed: SEED, numRuns: RUNS, endOnFailure: true },
    );
    console.log(`fuzz: ${accepted} of ${RUNS} policies compiled to a script`);
    // The generator must reach the script checks, not only the error paths.
    expect(accepted).toBeGreaterThan(RUNS / 20);
  }, 120_000);
});
