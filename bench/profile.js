// Summary of a V8 CPU profile (node --cpu-prof): total sampled time, the compiler's phases
// (inclusive time of parsePolicy, check, compile, render) and the functions with the most
// self time.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const PHASES = [
  { phase: 'parse (moo + nearley per statement, lowering)', fn: 'parsePolicy', file: '/dist/syntax/' },
  { phase: 'check (all rules)', fn: 'check', file: '/dist/check/index.js' },
  { phase: 'compile (backends → model)', fn: 'compile', file: '/dist/backends/index.js' },
  { phase: 'render (sh)', fn: 'renderSh', file: '/dist/render/' },
];

const where = (cf) => {
  const url = cf.url.replace(/^file:\/\//, '');
  const short = url.replace(/.*\/(dist|node_modules)\//, '$1/');
  return `${short || '(native)'}${cf.lineNumber >= 0 && url ? `:${cf.lineNumber + 1}` : ''}`;
};

export function summarizeProfile(dir) {
  const file = readdirSync(dir).find((x) => x.endsWith('.cpuprofile'));
  if (!file) throw new Error(`no .cpuprofile in ${dir}`);
  const p = JSON.parse(readFileSync(join(dir, file), 'utf8'));
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const sampleTime = new Map();
  let total = 0;
  p.samples.forEach((id, i) => {
    const dt = p.timeDeltas[i] ?? 0;
    sampleTime.set(id, (sampleTime.get(id) ?? 0) + dt);
    total += dt;
  });
  const self = new Map();
  const incl = new Map(); // phase index → µs
  const rules = new Map(); // check rule file → µs (inclusive)
  for (const [id, t] of sampleTime) {
    const n = byId.get(id);
    const name = n.callFrame.functionName || '(anonymous)';
    const key = `${name} ${where(n.callFrame)}`;
    self.set(key, (self.get(key) ?? 0) + t);
    const hit = new Set();
    const ruleHit = new Set();
    for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
      const cf = byId.get(cur).callFrame;
      const rule = /\/dist\/check\/rules\/(\w+)\.js$/.exec(cf.url);
      if (rule) ruleHit.add(rule[1]);
      PHASES.forEach((ph, i) => {
        if (cf.functionName === ph.fn && cf.url.includes(ph.file)) hit.add(i);
      });
    }
    for (const i of hit) incl.set(i, (incl.get(i) ?? 0) + t);
    for (const r of ruleHit) rules.set(r, (rules.get(r) ?? 0) + t);
  }
  const phases = PHASES.map((ph, i) => ({ phase: ph.phase, ms: (incl.get(i) ?? 0) / 1000 }));
  const inPhases = phases.reduce((a, b) => a + b.ms, 0);
  phases.push({ phase: 'rest (startup, module loading, reading, writing, GC outside the phases)', ms: total / 1000 - inPhases });
  const top = [...self]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 12)
    .map(([fn, t]) => ({ fn, ms: t / 1000 }));
  const topRules = [...rules]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 5)
    .map(([rule, t]) => ({ rule, ms: t / 1000 }));
  return { totalMs: total / 1000, phases, top, topRules };
}
