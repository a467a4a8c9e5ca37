// node bench/ab/interleave.js N 'COMMAND A' 'COMMAND B'
// A and B in turn (A B A B …), N counted runs each after one warm-up of each, every run timed
// as a whole process by GNU time (/usr/bin/time: user + system CPU, wall). Prints each side's
// medians and the median of the pair-by-pair ratios A/B, which holds when the machine's speed
// drifts during the run; and the load average at the start and the end. A failed run stops it.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';

const [count, a, b] = process.argv.slice(2);
const n = Number(count);
if (!(n > 0) || !a || !b) {
  console.error("usage: node bench/ab/interleave.js N 'COMMAND A' 'COMMAND B'");
  process.exit(2);
}
const dir = mkdtempSync(join(tmpdir(), 'qp-interleave-'));
const out = join(dir, 'time');

function timed(cmd) {
  const r = spawnSync('/usr/bin/time', ['-f', '%U %S %e', '-o', out, 'sh', '-c', `exec ${cmd}`], { stdio: ['ignore', 'ignore', 'pipe'] });
  if (r.status !== 0) throw new Error(`${cmd} failed (${r.status}): ${r.stderr}`);
  const [user, sys, wall] = readFileSync(out, 'utf8').trim().split(/\s+/).slice(-3).map(Number);
  return { cpu: user + sys, wall };
}

const median = (xs) => {
  const s = [...xs].sort((x, y) => x - y);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const load = () => loadavg().map((x) => x.toFixed(2)).join(' ');

const start = load();
try {
  timed(a);
  timed(b);
  const runs = { a: [], b: [] };
  for (let i = 0; i < n; i++) {
    runs.a.push(timed(a));
    runs.b.push(timed(b));
  }
  const row = (name, f) => `${name.padEnd(10)} ${median(runs.a.map(f)).toFixed(3).padStart(8)} ${median(runs.b.map(f)).toFixed(3).padStart(8)} ${median(runs.a.map((x, i) => f(x) / f(runs.b[i]))).toFixed(3).padStart(8)}`;
  console.log(`A = ${a}\nB = ${b}\n${n} runs each, in turn; load average ${start} at the start, ${load()} at the end`);
  console.log(`${'median'.padEnd(10)} ${'A'.padStart(8)} ${'B'.padStart(8)} ${'A/B'.padStart(8)}`);
  console.log(row('CPU s', (x) => x.cpu));
  console.log(row('wall s', (x) => x.wall));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
