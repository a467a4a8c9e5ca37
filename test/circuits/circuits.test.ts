// `circuits "FILE" down|up` and `sites "FILE"`: a LibreQoS ShapedDevices.csv and network.json
// become classes, and every bad row is reported at its own file:line:column.
import { describe, expect, it } from 'vitest';
import { parsePolicy, type ClassNode } from '../../src/syntax/index.js';
import { check } from '../../src/check/index.js';
import { formatDiagnostic } from '../../src/diagnostics/format.js';

const HEADER = 'Circuit ID,Circuit Name,Device ID,Device Name,Parent Node,MAC,IPv4,IPv6,Download Min Mbps,Upload Min Mbps,Download Max Mbps,Upload Max Mbps,Comment';
const SITES = JSON.stringify({
  Tower: { downloadBandwidthMbps: 800, uploadBandwidthMbps: 300, children: { AP1: { downloadBandwidthMbps: 400, uploadBandwidthMbps: 100, children: {} } } },
});

function front(csvRows: string[], opts: { sites?: string; dir?: 'down' | 'up' } = {}) {
  const files: Record<string, string> = { 'p/subs.csv': [HEADER, ...csvRows].join('\n') + '\n', 'p/net.json': opts.sites ?? SITES };
  const policy = `interface eth1 {
  egress rate 1gbit {
    class mgmt rate 5mbit ceil 10mbit { match dst 100.126.0.0/16 }
    ${opts.sites === undefined ? '' : 'sites "net.json"'}
    circuits "subs.csv" ${opts.dir ?? 'down'}
    class rest rate 10mbit ceil 100mbit default
  }
}
`;
  return parsePolicy('p/isp.pol', policy, {
    readFile: (p) => {
      if (!(p in files)) throw Object.assign(new Error('no such file'), { code: 'ENOENT' });
      return files[p]!;
    },
    resolve: (from, p) => `${from.slice(0, from.lastIndexOf('/') + 1)}${p}`,
  });
}

const where = (r: ReturnType<typeof front>) => r.diagnostics.map((d) => `${d.span?.file}:${d.span?.start.line}:${d.span?.start.col} ${d.code} ${d.message}`);

describe('circuits', () => {
  it('makes one class per circuit, its devices sharing it; down: download columns, by destination', () => {
    const r = front(['1001,"Smith, Anna",d1,,,,"100.64.1.10, 100.64.1.11",2001:db8:1::/64,25,5,100,20,', '1001,"Smith, Anna",d2,,,,100.64.1.12,,25,5,100,20,', 'A-7,Cafe,d3,,,,100.64.2.0/29,,50,10,300,60,']);
    expect(where(r)).toEqual([]);
    const classes = r.policy.interfaces[0]!.egress!.classes;
    expect(classes.map((c) => c.name.text)).toEqual(['mgmt', 'c1001', 'A-7', 'rest']);
    const smith = classes[1]!;
    expect(smith.circuit).toEqual({ id: '1001', name: 'Smith, Anna' });
    expect([smith.rate!.bps, smith.ceil!.bps]).toEqual([25e6, 100e6]);
    const c = smith.matches[0]!.criteria[0]!;
    expect(c.kind === 'addr' && [c.dir, c.prefixes.map((p) => `${p.address}/${p.length}`)]).toEqual(['dst', ['100.64.1.10/32', '100.64.1.11/32', '2001:db8:1::/64', '100.64.1.12/32']]);
    expect(check(r.policy).diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  });

  it('up: upload columns, by source', () => {
    const r = front(['1,One,d1,,,,100.64.1.10,,25,5,100,20,'], { dir: 'up' });
    const one = r.policy.interfaces[0]!.egress!.classes[1]!;
    const c = one.matches[0]!.criteria[0]!;
    expect([one.rate!.bps, one.ceil!.bps, c.kind === 'addr' && c.dir]).toEqual([5e6, 20e6, 'src']);
  });

  it('places circuits under nested site classes by Parent Node, with the sites capacities as ceil', () => {
    const r = front(['1,One,d1,,AP1,,100.64.1.10,,25,5,100,20,', '2,Two,d2,,Tower,,100.64.1.11,,10,5,100,20,', '3,Three,d3,,,,100.64.1.12,,1,1,10,10,'], { sites: SITES });
    expect(where(r)).toEqual([]);
    const show = (c: ClassNode): unknown => ({ [c.name.text]: [c.rate?.bps, c.ceil?.bps, ...c.children.map(show)] });
    expect(r.policy.interfaces[0]!.egress!.classes.map(show)).toEqual([
      { mgmt: [5e6, 10e6] },
      { Tower: [35e6, 800e6, { c2: [10e6, 100e6] }, { AP1: [25e6, 400e6, { c1: [25e6, 100e6] }] }] },
      { c3: [1e6, 10e6] },
      { rest: [10e6, 100e6] },
    ]);
    expect(check(r.policy).diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  });

  it('reports each bad row at the CSV file:line:column, with a code frame of that row', () => {
    const r = front(
      [
        '1,One,d1,,AP1,,100.64.1.10,,25,5,100,20,', // line 2: fine
        '2,Two,d2,,AP1,,100.64.1.11,,ten,5,100,20,', // line 3: rate not a number
        '3,Three,d3,,AP1,,100.64.1.12,,60,5,50,20,', // line 4: min above max
        '4,Four,d4,,AP1,,"100.64.1.13, 100.64.1.300",,6,5,50,20,', // line 5: bad address
        '1,One,d5,,AP1,,100.64.1.14,,99,5,100,20,', // line 6: circuit 1 again, other rates
        '6,Six,d6,,AP1,,100.64.1.0/28,,6,5,50,20,', // line 7: overlaps circuit 1's address
        '7,Seven,d7,,AP9,,100.64.1.30,,6,5,50,20,', // line 8: unknown parent
        '8,Eight,d7,,AP1,,100.64.1.31,,6,5,50,20,', // line 9: device ID d7 again
        '9,Nine,d9,,AP1,,,"2001:db8::1, 2001:db8:::2",6,5,50,20,', // line 10: bad IPv6
      ],
      { sites: SITES },
    );
    expect(where(r)).toEqual([
      "p/subs.csv:3:29 QP2027 'ten' is not a rate in Mbps",
      'p/subs.csv:4:31 QP2027 Download Min Mbps 60 is above Download Max Mbps 50',
      "p/subs.csv:5:31 QP2027 '100.64.1.300' is not an IPv4 address or prefix",
      "p/subs.csv:6:1 QP2027 circuit '1' is given again with other rates or parent",
      "p/subs.csv:7:16 QP2027 100.64.1.0/28 overlaps an address of circuit '1'",
      "p/subs.csv:8:13 QP2027 unknown parent node 'AP9'",
      "p/subs.csv:9:9 QP2027 device ID 'd7' is given twice",
      "p/subs.csv:10:32 QP2027 '2001:db8:::2' is not an IPv6 address or prefix",
    ]);
    const frame = formatDiagnostic(r.diagnostics[0]!, { sources: r.sources, color: false });
    expect(frame).toContain('> 3 | 2,Two,d2,,AP1,,100.64.1.11,,ten,5,100,20,');
    expect(frame).toMatch(/\n\s+\|\s{29}\^\^\^\n/);
    expect(r.diagnostics[4]!.related?.[0]?.span.start.line).toBe(2);
  });

  it('reports a file it cannot read, bad JSON and a header without the columns', () => {
    expect(where(front(['1,One,d1,,,,100.64.1.10,,25,5,100,20,'], { sites: '{"Tower": {"downloadBandwidthMbps": 10,,}}' }))).toEqual([
      expect.stringMatching(/^p\/net\.json:1:\d+ QP2027 p\/net\.json is not valid JSON/),
    ]);
    const r = parsePolicy('p.pol', 'interface eth1 {\n  egress rate 1gbit {\n    circuits "none.csv" down\n  }\n}\n', { readFile: () => { throw Object.assign(new Error('x'), { code: 'ENOENT' }); } });
    expect(where(r)).toEqual(["p.pol:3:14 QP2027 cannot read circuits file none.csv: no such file"]);
    const lone = parsePolicy('p.pol', 'interface eth1 {\n  egress rate 1gbit {\n    sites "n.json"\n    class a rate 1mbit default\n  }\n}\n', { readFile: () => '{}' });
    expect(where(lone)).toEqual(["p.pol:3:5 QP2027 'sites' without 'circuits' in the same tree"]);
    const h = parsePolicy('p.pol', 'interface eth1 {\n  egress rate 1gbit {\n    circuits "a.csv" down\n  }\n}\n', { readFile: () => 'Circuit ID,IPv4\n1,100.64.0.1\n' });
    expect(where(h)[0]).toMatch(/^a\.csv:1:1 QP2027 the header lacks 'IPv6', 'Download Min Mbps'/);
  });
});

describe('circuit names in generated output', () => {
  it('a Circuit Name with a newline or escape cannot forge a line of the boot script', async () => {
    const { compileSource } = await import('../compile/pipeline.js');
    const { renderSh } = await import('../../src/render/sh.js');
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = mkdtempSync(join(tmpdir(), 'qp-circ-name-'));
    writeFileSync(join(dir, 'subs.csv'), `${HEADER}\n1,"evil\nrm -rf / \x1b[2J",d1,,,,100.64.1.10,,25,5,100,20,\n`);
    const pol = join(dir, 'p.pol');
    writeFileSync(pol, 'interface eth1 {\n  egress rate 1gbit {\n    circuits "subs.csv" down\n    class rest rate 10mbit ceil 100mbit default\n  }\n}\n');
    const r = compileSource(pol, 'interface eth1 {\n  egress rate 1gbit {\n    circuits "subs.csv" down\n    class rest rate 10mbit ceil 100mbit default\n  }\n}\n');
    const sh = renderSh(r.state!, { source: pol, version: 'test' });
    expect(sh).toContain('# eth1 egress › c1 (circuit 1: evil\\nrm -rf / \\x1b[2J)');
    expect(sh.split('\n').some((l) => l.startsWith('rm '))).toBe(false);
    expect(sh).not.toContain('\x1b');
  });
});

describe('circuits at scale', () => {
  it('a list of 140 000 circuits is lowered to its classes, not a stack overflow (no spread of the classes into one call)', () => {
    const rows = Array.from({ length: 140_000 }, (_, i) => {
      const n = 0x64400000 + i + 1;
      return `${i + 1},S${i},d${i},,,,${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255},,1,1,10,10,`;
    });
    const r = front(rows);
    expect(r.diagnostics).toEqual([]);
    const tree = r.policy.interfaces[0]!.egress!;
    expect(tree.classes.length).toBe(140_002);
    expect(tree.classes[140_000]!.name.text).toBe('c140000');
  }, 60_000);
});
