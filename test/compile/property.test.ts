// Random and mutated inputs always end in diagnostics or a compiled state — never a throw.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { fuzz, fuzzTimeout } from '../support/fuzz.js';
import { readFileSync, readdirSync } from 'node:fs';
import { compileSource } from './pipeline.js';
import { renderSh } from '../../src/render/sh.js';
import { renderBatch } from '../../src/render/batch.js';

const seeds = [
  ...readdirSync('policies').filter((f) => f.endsWith('.pol')).map((f) => `policies/${f}`),
  ...readdirSync('test/cases').filter((f) => f.endsWith('.pol')).map((f) => `test/cases/${f}`),
].map((f) => readFileSync(f, 'utf8'));

const VOCAB = [
  'target', 'interface', 'shared', 'tdma', 'class', 'match', 'slot', 'frame', 'ingress', 'egress', 'rate',
  'ceil', 'prio', 'default', 'link', 'down', 'up', 'delay', 'jitter', 'price', 'on', 'at', 'length', 'tcp',
  'udp', 'icmp', 'sport', 'dport', 'src', 'dst', 'dscp', 'mark', 'ifb', 'imq', 'taprio', 'module', 'sch_tdma',
  '{', '}', ',', ';', '\n', '#', '!', '/', '10mbit', '5%', '20mbps', '0', '65536', '1-9', '9-1', '0x10',
  '10.0.0.0/8', '10.1.2.3/33', '2001:db8::/32', 'fe80::1/129', 'ef', 'af41', 'cs9', 'wan0', 'x'.repeat(20),
  'eth0:1', '$(reboot)', '10ms', '4294967296ns', '"s"', 'quantum', 'bps',
];

function run(text: string): void {
  const r = compileSource('fuzz.pol', text);
  for (const d of r.diagnostics) {
    expect(d.code).toMatch(/^QP\d{4}$/);
    expect(d.message.length).toBeGreaterThan(0);
  }
  if (r.state) {
    renderSh(r.state, { source: 'fuzz.pol', version: 't' });
    renderBatch(r.state, 't');
  }
}

describe('property: no input crashes the front end or the compiler', () => {
  it('random token soup', async () => {
    await fuzz(
      fc.property(fc.array(fc.constantFrom(...VOCAB), { maxLength: 80 }), (words) => run(words.join(' '))), { runs: 1500 }
    );
  }, fuzzTimeout(60_000));

  it('random unicode text', async () => {
    await fuzz(fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (s) => run(s)), { runs: 800 });
  }, fuzzTimeout(60_000));

  it('mutated real policies (delete, duplicate or replace a span)', async () => {
    await fuzz(
      fc.property(
        fc.constantFrom(...seeds),
        fc.nat(),
        fc.nat({ max: 40 }),
        fc.constantFrom('', '}', '{', '\n', 'class', '0', '%', '/', ',', 'match', 'rate 1bit'),
        (seed, at, len, insert) => {
          const i = at % (seed.length + 1);
          run(seed.slice(0, i) + insert + seed.slice(i + len));
        },
      ), { runs: 800 }
    );
  }, fuzzTimeout(120_000)); // each run compiles a whole site policy (one has 256 per-host classes)
});
