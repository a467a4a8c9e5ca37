// `circuits "ShapedDevices.csv" down|up` and `sites "network.json"`: LibreQoS-style subscriber
// lists → one class per circuit (its devices' addresses as one match line), nested under site
// classes by `Parent Node`. Every bad row is reported at its own file:line:column, so a
// mistake in a 50 000-row list is found like a mistake in the policy.
import { isIPv4, isIPv6 } from 'node:net';
import type * as A from './ast.js';
import { diag, type Diagnostic } from '../diagnostics/diagnostic.js';
import type { Span } from '../diagnostics/span.js';
import { printable } from '../diagnostics/text.js';
import { cachedRows, Lines, type Column, type Row, type RowsCache, type TextFile } from './circuit-rows.js';
import { overlapFree, range, type Ranges } from './circuit-ranges.js';

export type CircuitDirection = 'down' | 'up';

/** One site of network.json, as a class under which circuits go. */
interface Site {
  name: string;
  node: A.ClassNode;
  /** Its capacity in this direction (bit/s), from the file. */
  ceil: number;
}

export interface CircuitsResult {
  classes: A.ClassNode[];
  diagnostics: Diagnostic[];
}

const MBIT = 1_000_000;

/** The columns a direction reads its rates from. */
const RATE_COLUMNS: Record<CircuitDirection, { min: Column; max: Column }> = {
  down: { min: 'Download Min Mbps', max: 'Download Max Mbps' },
  up: { min: 'Upload Min Mbps', max: 'Upload Max Mbps' },
};

/** A circuit's class as it is built: later rows of the same circuit (its devices) add their addresses. */
interface Circuit {
  node: A.ClassNode;
  row: Row;
  rate: number;
  ceil: number;
  parent: string;
  criterion: Extract<A.Criterion, { kind: 'addr' }>;
}

/** What one valid row says: its circuit, rates (bit/s), parent site and addresses. */
interface RowFacts {
  id: { text: string; span: Span };
  rate: number;
  ceil: number;
  parent: string;
  prefixes: A.Prefix[];
  ranges: Array<{ lo: bigint; hi: bigint }>;
}

/** What reading a list keeps from row to row. */
interface Reading {
  columns: { min: Column; max: Column };
  /** Sites of network.json by name (absent without a `sites` file). */
  sites?: Map<string, Site>;
  sitesPath?: string;
  devices: Map<string, Row>;
  circuits: Map<string, Circuit>;
  ranges: Ranges;
  out: Diagnostic[];
}

/**
 * The classes of a circuits list: site classes (from `sites`) with their circuits under them,
 * then the circuits with no parent. `at` is the circuits statement (where file-wide problems
 * are reported).
 */
export function circuitClasses(csv: TextFile, dir: CircuitDirection, at: Span, sitesFile: (TextFile & { at: Span }) | undefined, cache: RowsCache): CircuitsResult {
  const out: Diagnostic[] = [];
  const rows = cachedRows(csv, at, out, cache);
  const tree = sitesFile ? readSites(sitesFile, dir, out) : undefined;
  const r: Reading = { columns: RATE_COLUMNS[dir], sites: tree?.sites, sitesPath: sitesFile?.path, devices: new Map(), circuits: new Map(), ranges: { v4: [], v6: [] }, out };
  const topLevel: A.ClassNode[] = [];
  for (const row of rows) {
    const facts = rowFacts(row, r);
    if (!facts) continue;
    const known = r.circuits.get(facts.id.text);
    if (known) {
      joinCircuit(known, facts, r);
      continue;
    }
    if (!overlapFree(facts.prefixes, facts.ranges, facts.id.text, r.ranges, out)) continue;
    const circuit = newCircuit(row, facts, dir === 'down' ? 'dst' : 'src', r.columns);
    r.circuits.set(facts.id.text, circuit);
    if (facts.parent !== '') r.sites!.get(facts.parent)!.node.children.push(circuit.node);
    else topLevel.push(circuit.node);
  }
  if (!tree) return { classes: topLevel, diagnostics: out };
  settleSites(tree);
  return { classes: [...tree.roots, ...topLevel], diagnostics: out };
}

/** A row's circuit, rates, parent and addresses; undefined (and reported) when one is wrong. */
function rowFacts(row: Row, r: Reading): RowFacts | undefined {
  const { out } = r;
  const cell = (c: Column) => row.cell(c) ?? { text: '', span: row.span };
  const id = cell('Circuit ID');
  if (id.text === '') {
    out.push(diag('QP2027', 'the row has no Circuit ID', id.span, { hint: 'every device belongs to a circuit: give its Circuit ID' }));
    return undefined;
  }
  const { min, max } = r.columns;
  const rate = mbps(cell(min), out);
  const ceil = mbps(cell(max), out);
  if (rate === undefined || ceil === undefined) return undefined;
  if (rate > ceil) {
    out.push(diag('QP2027', `${min} ${cell(min).text} is above ${max} ${cell(max).text}`, cell(min).span, { hint: 'the minimum is the guaranteed rate, the maximum the ceiling: min ≤ max' }));
    return undefined;
  }
  if (!newDevice(row, r)) return undefined;
  const { prefixes, ranges } = rowAddresses(row, out);
  if (!prefixes) return undefined;
  const parent = r.sites ? (row.cell('Parent Node')?.text ?? '') : '';
  if (parent !== '' && r.sites && !r.sites.has(parent)) {
    out.push(diag('QP2027', `unknown parent node '${printable(parent)}'`, cell('Parent Node').span, { hint: `Parent Node names a site of ${printable(r.sitesPath!)}, or is empty` }));
    return undefined;
  }
  return { id, rate: rate * MBIT, ceil: ceil * MBIT, parent, prefixes, ranges: ranges! };
}

/** Records the row's Device ID; false (and reported) when an earlier row has it. */
function newDevice(row: Row, r: Reading): boolean {
  const deviceId = row.cell('Device ID');
  if (!deviceId || deviceId.text === '') return true;
  const prev = r.devices.get(deviceId.text);
  if (prev) {
    r.out.push(diag('QP2027', `device ID '${printable(deviceId.text)}' is given twice`, deviceId.span, { related: [{ span: prev.span, message: 'first given here' }] }));
    return false;
  }
  r.devices.set(deviceId.text, row);
  return true;
}

/** Another device of a known circuit: its addresses join the circuit's class. */
function joinCircuit(known: Circuit, facts: RowFacts, r: Reading): void {
  if (known.rate !== facts.rate || known.ceil !== facts.ceil || known.parent !== facts.parent) {
    r.out.push(
      diag('QP2027', `circuit '${printable(facts.id.text)}' is given again with other rates or parent`, facts.id.span, {
        related: [{ span: known.row.span, message: 'first given here' }],
        hint: 'the rows of one circuit (its devices) carry the same rates and Parent Node; a duplicate Circuit ID is another circuit only if it gets its own ID',
      }),
    );
    return;
  }
  if (overlapFree(facts.prefixes, facts.ranges, facts.id.text, r.ranges, r.out)) known.criterion.prefixes.push(...facts.prefixes);
}

/** A circuit's class: its rates, one match line with its addresses, its ID and name. */
function newCircuit(row: Row, facts: RowFacts, by: 'src' | 'dst', columns: Reading['columns']): Circuit {
  const span = (c: Column) => row.cell(c)?.span ?? row.span;
  const criterion: Circuit['criterion'] = { kind: 'addr', dir: by, prefixes: [...facts.prefixes], span: row.span };
  const node: A.ClassNode = {
    name: { text: className(facts.id.text), span: facts.id.span },
    rate: { bps: facts.rate, span: span(columns.min) },
    ceil: { bps: facts.ceil, span: span(columns.max) },
    matches: [{ criteria: [criterion], span: row.span }],
    children: [],
    span: row.span,
    circuit: { id: facts.id.text, name: row.cell('Circuit Name')?.text ?? '' },
  };
  return { node, row, rate: facts.rate, ceil: facts.ceil, parent: facts.parent, criterion };
}

/**
 * A site guarantees what its circuits and sub-sites are guaranteed, up to its capacity (more
 * is the checker's QP2001 at the site: the list oversubscribes it). Circuits are listed before
 * sub-sites in each site: the order their classes are created in.
 */
function settleSites(tree: { sites: Map<string, Site>; roots: A.ClassNode[] }): void {
  const siteOf = new Map<A.ClassNode, Site>();
  for (const s of tree.sites.values()) siteOf.set(s.node, s);
  const settle = (s: Site): number => {
    const sum = s.node.children.reduce((n, c) => n + (c.circuit ? c.rate!.bps : settle(siteOf.get(c)!)), 0);
    s.node.rate = { bps: sum > 0 ? sum : Math.min(s.ceil, MBIT), span: s.node.span };
    return s.node.rate.bps;
  };
  for (const s of tree.sites.values()) s.node.children.sort((a, b) => Number(!a.circuit) - Number(!b.circuit));
  for (const root of tree.roots) settle(siteOf.get(root)!);
}

/** How plans and status name a circuit's class beside its path: its Circuit ID and Name. */
export function circuitLabel(node: A.ClassNode): string {
  if (!node.circuit) return '';
  const { id, name } = node.circuit;
  return ` (circuit ${printable(id)}${name ? `: ${printable(name)}` : ''})`;
}

/** A circuit ID as a class name: an identifier (IDs are often numbers: `1001` → `c1001`). */
export function className(id: string): string {
  const name = id.replace(/[^A-Za-z0-9_-]/g, '_');
  return /^[A-Za-z_]/.test(name) ? name : `c${name}`;
}

/** Mbit/s in a cell: a plain decimal number above zero. */
function mbps(cell: { text: string; span: Span }, out: Diagnostic[]): number | undefined {
  const v = /^[0-9]+(?:\.[0-9]+)?$/.test(cell.text) ? Number(cell.text) : NaN;
  if (v > 0 && Number.isFinite(v)) return v;
  out.push(
    diag('QP2027', cell.text === '' ? 'the rate is missing' : `'${printable(cell.text)}' is not a rate in Mbps`, cell.span, {
      hint: 'rates are decimal Mbit/s above zero, like 25 or 2.5',
    }),
  );
  return undefined;
}

/** The row's addresses and their ranges, read once for both directions' trees. */
function rowAddresses(row: Row, out: Diagnostic[]): NonNullable<Row['read']> {
  if (!row.read) {
    const diagnostics: Diagnostic[] = [];
    const prefixes = addresses(row, diagnostics);
    row.read = { prefixes, ranges: prefixes?.map(range), diagnostics };
  }
  out.push(...row.read.diagnostics);
  return row.read;
}

/** The row's IPv4 and IPv6 cells: addresses or prefixes, separated by commas or spaces. */
function addresses(row: Row, out: Diagnostic[]): A.Prefix[] | undefined {
  const prefixes: A.Prefix[] = [];
  let ok = true;
  for (const [col, family] of [['IPv4', 4], ['IPv6', 6]] as const) {
    const cell = row.cell(col);
    if (!cell) continue;
    for (const m of cell.text.matchAll(/[^\s,]+/g)) {
      const item = m[0];
      const span = row.lines.within(cell.span, m.index, m.index + item.length);
      const [address, len, extra] = item.split('/');
      const max = family === 4 ? 32 : 128;
      const length = len === undefined ? max : /^[0-9]{1,3}$/.test(len) ? Number(len) : NaN;
      const valid = extra === undefined && (family === 4 ? isIPv4(address!) : isIPv6(address!)) && length >= 0 && length <= max;
      if (!valid) {
        out.push(diag('QP2027', `'${printable(item)}' is not an IPv${family} address or prefix`, span, { hint: family === 4 ? 'write 100.64.1.7 or 100.64.1.0/29' : 'write 2001:db8:1::/64 or 2001:db8::7' }));
        ok = false;
        continue;
      }
      prefixes.push({ family, address: address!, length, span });
    }
  }
  if (!ok) return undefined;
  if (prefixes.length === 0) {
    out.push(diag('QP2027', 'the row has no address', row.span, { hint: 'give the device an IPv4 or IPv6 address (or prefix) in its IPv4/IPv6 column' }));
    return undefined;
  }
  return prefixes;
}


/** network.json: sites by name, each a class with its capacity as ceil, nested as in the file. */
function readSites(file: TextFile & { at: Span }, dir: CircuitDirection, out: Diagnostic[]): { sites: Map<string, Site>; roots: A.ClassNode[] } | undefined {
  const lines = new Lines(file.path, file.text);
  let json: unknown;
  try {
    json = JSON.parse(file.text);
  } catch (e) {
    const m = /position (\d+)/.exec((e as Error).message);
    out.push(diag('QP2027', `${printable(file.path)} is not valid JSON: ${printable((e as Error).message)}`, m ? lines.at(Number(m[1])) : file.at));
    return undefined;
  }
  const key = dir === 'down' ? 'downloadBandwidthMbps' : 'uploadBandwidthMbps';
  const sites = new Map<string, Site>();
  const roots: A.ClassNode[] = [];
  // A key's position: its first quoted occurrence after the previous site's (the file's order).
  let from = 0;
  const where = (name: string): Span => {
    const i = file.text.indexOf(JSON.stringify(name), from);
    if (i < 0) return file.at;
    from = i + 1;
    return lines.span(lines.at(i).start.line, lines.at(i).start.col, JSON.stringify(name).length);
  };
  const walk = (obj: unknown, parent: A.ClassNode | undefined): boolean => {
    if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) return true;
    for (const [name, v] of Object.entries(obj)) {
      const span = where(name);
      const site = v as Record<string, unknown> | null;
      const cap = site && typeof site === 'object' ? site[key] : undefined;
      if (typeof cap !== 'number' || !(cap > 0)) {
        out.push(diag('QP2027', `site '${printable(name)}' has no ${key} above zero`, span, { hint: `each site gives "downloadBandwidthMbps" and "uploadBandwidthMbps" in Mbit/s` }));
        return false;
      }
      if (sites.has(name)) {
        out.push(diag('QP2027', `site '${printable(name)}' is given twice`, span, { related: [{ span: sites.get(name)!.node.span, message: 'first given here' }] }));
        return false;
      }
      const node: A.ClassNode = { name: { text: className(name), span }, ceil: { bps: cap * MBIT, span }, matches: [], children: [], span, site: name };
      const s: Site = { name, node, ceil: cap * MBIT };
      sites.set(name, s);
      if (parent) parent.children.push(node);
      else roots.push(node);
      if (!walk(site!.children, node)) return false;
    }
    return true;
  };
  return walk(json, undefined) ? { sites, roots } : undefined;
}
