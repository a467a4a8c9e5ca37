// `circuits "ShapedDevices.csv" down|up` and `sites "network.json"`: LibreQoS-style subscriber
// lists → one class per circuit (its devices' addresses as one match line), nested under site
// classes by `Parent Node`. Every bad row is reported at its own file:line:column, so a
// mistake in a 50 000-row list is found like a mistake in the policy.
import Papa from 'papaparse';
import { isIPv4, isIPv6 } from 'node:net';
import type * as A from './ast.js';
import { diag, type Diagnostic } from '../diagnostics/diagnostic.js';
import type { Position, Span } from '../diagnostics/span.js';
import { printable } from '../diagnostics/text.js';

/** The columns of LibreQoS's ShapedDevices.csv; the header names them, in any order. */
export const CIRCUIT_COLUMNS = [
  'Circuit ID',
  'Circuit Name',
  'Device ID',
  'Device Name',
  'Parent Node',
  'MAC',
  'IPv4',
  'IPv6',
  'Download Min Mbps',
  'Upload Min Mbps',
  'Download Max Mbps',
  'Upload Max Mbps',
  'Comment',
] as const;
type Column = (typeof CIRCUIT_COLUMNS)[number];
/** Columns a row cannot do without (the others may be absent from the header). */
const REQUIRED: Column[] = ['Circuit ID', 'IPv4', 'IPv6', 'Download Min Mbps', 'Upload Min Mbps', 'Download Max Mbps', 'Upload Max Mbps'];

export type CircuitDirection = 'down' | 'up';

export interface TextFile {
  path: string;
  text: string;
}

/** A file's lines, for offset → line/column (the one place a CSV/JSON position is made). */
class Lines {
  private starts: number[] = [0];
  constructor(
    readonly file: string,
    readonly text: string,
  ) {
    for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) this.starts.push(i + 1);
  }
  lineText(line: number): string {
    const s = this.starts[line - 1] ?? this.text.length;
    const e = this.starts[line] ?? this.text.length + 1;
    return this.text.slice(s, e - 1).replace(/\r$/, '');
  }
  /** lineText(line).length, without copying the line (a span per cell of 50 000 rows). */
  lineLength(line: number): number {
    const s = this.starts[line - 1] ?? this.text.length;
    const e = (this.starts[line] ?? this.text.length + 1) - 1;
    return e > s && this.text.charCodeAt(e - 1) === 13 ? e - s - 1 : Math.max(0, e - s);
  }
  pos(line: number, col: number): Position {
    return { offset: (this.starts[line - 1] ?? 0) + col - 1, line, col };
  }
  /** `len` characters from line:col (clipped to the line). */
  span(line: number, col: number, len: number): Span {
    const end = Math.max(col + 1, Math.min(col + len, this.lineLength(line) + 1));
    return { file: this.file, start: this.pos(line, col), end: this.pos(line, end) };
  }
  line(line: number): Span {
    return this.span(line, 1, Math.max(1, this.lineLength(line)));
  }
  at(offset: number): Span {
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return this.span(lo + 1, offset - this.starts[lo]! + 1, 1);
  }
}

/** A cell's text, and its span made when first asked (most of a row's 13 cells never are). */
class Cell {
  #span: Span | undefined;
  constructor(
    readonly text: string,
    private readonly lines: Lines,
    private readonly line: number,
    private readonly col: number,
    private readonly len: number,
  ) {}
  get span(): Span {
    return (this.#span ??= this.lines.span(this.line, this.col, this.len));
  }
}

/** One row of the CSV with each cell's span. */
interface Row {
  line: number;
  cells: Map<Column, { text: string; span: Span }>;
  span: Span;
  /** Its addresses as read for the first tree: the rows are cached, the `up` tree reuses them. */
  read?: { prefixes?: A.Prefix[]; ranges?: Array<{ lo: bigint; hi: bigint }>; diagnostics: Diagnostic[] };
}

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

/**
 * The classes of a circuits list: site classes (from `sites`) with their circuits under them,
 * then the circuits with no parent. `at` is the circuits statement (where file-wide problems
 * are reported).
 */
export function circuitClasses(csv: TextFile, dir: CircuitDirection, at: Span, sitesFile?: TextFile & { at: Span }): CircuitsResult {
  const out: Diagnostic[] = [];
  const lines = new Lines(csv.path, csv.text);
  const rows = cachedRows(csv, lines, at, out);
  const tree = sitesFile ? readSites(sitesFile, dir, out) : undefined;
  const sites = tree?.sites;

  const [minCol, maxCol]: [Column, Column] = dir === 'down' ? ['Download Min Mbps', 'Download Max Mbps'] : ['Upload Min Mbps', 'Upload Max Mbps'];
  const by: 'src' | 'dst' = dir === 'down' ? 'dst' : 'src';
  const circuits = new Map<string, { node: A.ClassNode; row: Row; rate: number; ceil: number; parent: string; criterion: Extract<A.Criterion, { kind: 'addr' }> }>();
  const devices = new Map<string, Row>();
  const ranges: Ranges = { v4: [], v6: [] };
  const topLevel: A.ClassNode[] = [];

  for (const row of rows) {
    const cell = (c: Column) => row.cells.get(c) ?? { text: '', span: row.span };
    const id = cell('Circuit ID');
    if (id.text === '') {
      out.push(diag('QP2027', 'the row has no Circuit ID', id.span, { hint: 'every device belongs to a circuit: give its Circuit ID' }));
      continue;
    }
    const rate = mbps(cell(minCol), out);
    const ceil = mbps(cell(maxCol), out);
    if (rate === undefined || ceil === undefined) continue;
    if (rate > ceil) {
      out.push(diag('QP2027', `${minCol} ${cell(minCol).text} is above ${maxCol} ${cell(maxCol).text}`, cell(minCol).span, { hint: 'the minimum is the guaranteed rate, the maximum the ceiling: min ≤ max' }));
      continue;
    }
    const deviceId = row.cells.get('Device ID');
    if (deviceId && deviceId.text !== '') {
      const prev = devices.get(deviceId.text);
      if (prev) {
        out.push(diag('QP2027', `device ID '${printable(deviceId.text)}' is given twice`, deviceId.span, { related: [{ span: prev.span, message: 'first given here' }] }));
        continue;
      }
      devices.set(deviceId.text, row);
    }
    const { prefixes, ranges: spans } = rowAddresses(row, out);
    if (!prefixes) continue;
    const parent = sites ? (row.cells.get('Parent Node')?.text ?? '') : '';
    if (parent !== '' && sites && !sites.has(parent)) {
      const p = cell('Parent Node');
      out.push(diag('QP2027', `unknown parent node '${printable(parent)}'`, p.span, { hint: `Parent Node names a site of ${printable(sitesFile!.path)}, or is empty` }));
      continue;
    }
    const known = circuits.get(id.text);
    if (known) {
      // Another device of the same circuit: its addresses join the circuit's class.
      if (known.rate !== rate * MBIT || known.ceil !== ceil * MBIT || known.parent !== parent) {
        out.push(
          diag('QP2027', `circuit '${printable(id.text)}' is given again with other rates or parent`, id.span, {
            related: [{ span: known.row.span, message: 'first given here' }],
            hint: 'the rows of one circuit (its devices) carry the same rates and Parent Node; a duplicate Circuit ID is another circuit only if it gets its own ID',
          }),
        );
        continue;
      }
      if (!overlapFree(prefixes, spans!, id.text, ranges, out)) continue;
      known.criterion.prefixes.push(...prefixes);
      continue;
    }
    if (!overlapFree(prefixes, spans!, id.text, ranges, out)) continue;
    const criterion: Extract<A.Criterion, { kind: 'addr' }> = { kind: 'addr', dir: by, prefixes: [...prefixes], span: row.span };
    const node: A.ClassNode = {
      name: { text: className(id.text), span: id.span },
      rate: { bps: rate * MBIT, span: cell(minCol).span },
      ceil: { bps: ceil * MBIT, span: cell(maxCol).span },
      matches: [{ criteria: [criterion], span: row.span }],
      children: [],
      span: row.span,
      circuit: { id: id.text, name: row.cells.get('Circuit Name')?.text ?? '' },
    };
    circuits.set(id.text, { node, row, rate: rate * MBIT, ceil: ceil * MBIT, parent, criterion });
    if (parent !== '') sites!.get(parent)!.node.children.push(node);
    else topLevel.push(node);
  }

  if (!sites) return { classes: topLevel, diagnostics: out };
  // A site guarantees what its circuits and sub-sites are guaranteed, up to its capacity
  // (more is the checker's QP2001 at the site: the list oversubscribes it).
  const settle = (s: Site): number => {
    const sum = s.node.children.reduce((n, c) => n + (c.circuit ? c.rate!.bps : settle(siteOf.get(c)!)), 0);
    s.node.rate = { bps: sum > 0 ? sum : Math.min(s.ceil, MBIT), span: s.node.span };
    return s.node.rate.bps;
  };
  const siteOf = new Map<A.ClassNode, Site>();
  for (const s of sites.values()) siteOf.set(s.node, s);
  // Circuits listed before sub-sites in each site: the order their classes are created in.
  for (const s of sites.values()) s.node.children.sort((a, b) => Number(!a.circuit) - Number(!b.circuit));
  for (const r of tree!.roots) settle(siteOf.get(r)!);
  return { classes: [...tree!.roots, ...topLevel], diagnostics: out };
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

/** The row's IPv4 and IPv6 cells: addresses or prefixes, separated by commas or spaces. */
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

function addresses(row: Row, out: Diagnostic[]): A.Prefix[] | undefined {
  const prefixes: A.Prefix[] = [];
  let ok = true;
  for (const [col, family] of [['IPv4', 4], ['IPv6', 6]] as const) {
    const cell = row.cells.get(col);
    if (!cell) continue;
    for (const m of cell.text.matchAll(/[^\s,]+/g)) {
      const item = m[0];
      const span = { ...cell.span, start: shift(cell.span.start, m.index), end: shift(cell.span.start, m.index + item.length) };
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

const shift = (p: Position, n: number): Position => ({ offset: p.offset + n, line: p.line, col: p.col + n });

interface Ranges {
  v4: Array<{ lo: bigint; hi: bigint; id: string; span: Span }>;
  v6: Array<{ lo: bigint; hi: bigint; id: string; span: Span }>;
}

/** Network and broadcast of a prefix as integers. */
function range(p: A.Prefix): { lo: bigint; hi: bigint } {
  const bits = p.family === 4 ? 32 : 128;
  const value = p.family === 4 ? p.address.split('.').reduce((n, b) => (n << 8n) | BigInt(b), 0n) : v6Value(p.address);
  const host = (1n << BigInt(bits - p.length)) - 1n;
  const lo = value & ~host & ((1n << BigInt(bits)) - 1n);
  return { lo, hi: lo | host };
}

function v6Value(a: string): bigint {
  let text = a;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const [b0, b1, b2, b3] = v4[1]!.split('.').map(Number) as [number, number, number, number];
    text = text.slice(0, v4.index) + `${((b0 << 8) | b1).toString(16)}:${((b2 << 8) | b3).toString(16)}`;
  }
  const [head, tail] = text.split('::') as [string, string | undefined];
  const h = head === '' ? [] : head.split(':');
  const t = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  return groups.reduce((n, g) => (n << 16n) | BigInt(parseInt(g, 16)), 0n);
}

/**
 * Records the circuit's prefixes; reports one that overlaps another circuit's (a packet to
 * it would have two classes). Overlap is checked against everything recorded so far with a
 * sorted search, so 50 000 circuits cost n log n, not n².
 */
function overlapFree(prefixes: A.Prefix[], spans: Array<{ lo: bigint; hi: bigint }>, id: string, ranges: Ranges, out: Diagnostic[]): boolean {
  const found: Array<{ p: A.Prefix; lo: bigint; hi: bigint }> = [];
  for (const [i, p] of prefixes.entries()) {
    const r = spans[i]!;
    const list = p.family === 4 ? ranges.v4 : ranges.v6;
    const other = overlapping(list, r.lo, r.hi, id);
    if (other) {
      out.push(
        diag('QP2027', `${printable(p.address)}/${p.length} overlaps an address of circuit '${printable(other.id)}'`, p.span, {
          related: [{ span: other.span, message: `circuit '${printable(other.id)}' has it here` }],
          hint: 'a packet can belong to one circuit only: each address or prefix is listed once',
        }),
      );
      return false;
    }
    found.push({ p, ...r });
  }
  for (const f of found) insertSorted(f.p.family === 4 ? ranges.v4 : ranges.v6, { lo: f.lo, hi: f.hi, id, span: f.p.span });
  return true;
}

/** Prefixes nest or are disjoint: an overlap is a recorded range containing lo, or one inside [lo, hi]. */
function overlapping(list: Ranges['v4'], lo: bigint, hi: bigint, id: string): Ranges['v4'][number] | undefined {
  // First recorded range starting at or after lo.
  let a = 0;
  let b = list.length;
  while (a < b) {
    const m = (a + b) >> 1;
    if (list[m]!.lo < lo) a = m + 1;
    else b = m;
  }
  const inside = list[a];
  if (inside && inside.lo <= hi && inside.id !== id) return inside;
  const before = list[a - 1];
  if (before && before.hi >= lo && before.id !== id) return before;
  return undefined;
}

function insertSorted(list: Ranges['v4'], r: Ranges['v4'][number]): void {
  // Rows come mostly in address order: appending is the common case.
  if (list.length === 0 || list[list.length - 1]!.lo <= r.lo) {
    list.push(r);
    return;
  }
  let a = 0;
  let b = list.length;
  while (a < b) {
    const m = (a + b) >> 1;
    if (list[m]!.lo <= r.lo) a = m + 1;
    else b = m;
  }
  list.splice(a, 0, r);
}

/** The last list read: a `down` and an `up` tree read the same file (the same text) one after the other. */
let lastRead: { path: string; text: string; rows: Row[]; diagnostics: Diagnostic[] } | undefined;
function cachedRows(csv: TextFile, lines: Lines, at: Span, out: Diagnostic[]): Row[] {
  if (lastRead?.path !== csv.path || lastRead.text !== csv.text) {
    const diagnostics: Diagnostic[] = [];
    lastRead = { path: csv.path, text: csv.text, rows: readRows(csv, lines, at, diagnostics), diagnostics };
  }
  out.push(...lastRead.diagnostics);
  return lastRead.rows;
}

/** The CSV's data rows with their cells' positions; file-wide problems are reported at `at`. */
function readRows(csv: TextFile, lines: Lines, at: Span, out: Diagnostic[]): Row[] {
  // papaparse (RFC 4180) gives each record's end offset; ~5 µs a row against csv-parse's ~40.
  const records: Array<{ record: string[]; start: number }> = [];
  let bad: Papa.ParseError | undefined;
  let from = 0;
  Papa.parse<string[]>(csv.text.replace(/^\uFEFF/, ''), {
    skipEmptyLines: true,
    comments: '#',
    step: (r) => {
      // The record starts where the previous ended, past empty lines.
      let start = from;
      while (csv.text[start] === '\n' || csv.text[start] === '\r') start++;
      from = r.meta.cursor;
      if (r.errors.length > 0 && !bad) bad = { ...r.errors[0]!, index: start };
      records.push({ record: r.data, start });
    },
  });
  if (bad) {
    out.push(diag('QP2027', `${printable(csv.path)} is not valid CSV: ${printable(bad.message)}`, lines.at(bad.index ?? 0), { hint: 'a quoted cell ends with a quote; a quote inside it is written twice ("")' }));
    return [];
  }
  const [header, ...data] = records;
  if (!header) {
    out.push(diag('QP2027', `${printable(csv.path)} is empty`, at, { hint: `its first line names the columns: ${CIRCUIT_COLUMNS.join(', ')}` }));
    return [];
  }
  const columns = header.record.map((h) => h.trim());
  const missing = REQUIRED.filter((c) => !columns.includes(c));
  if (missing.length > 0) {
    out.push(diag('QP2027', `the header lacks ${missing.map((m) => `'${m}'`).join(', ')}`, lines.line(lines.at(header.start).start.line), { hint: `LibreQoS's ShapedDevices.csv header: ${CIRCUIT_COLUMNS.join(', ')}` }));
    return [];
  }
  const known = columns.map((c) => ((CIRCUIT_COLUMNS as readonly string[]).includes(c) ? (c as Column) : undefined));
  const rows: Row[] = [];
  for (const r of data) {
    const { line } = lines.at(r.start).start;
    const text = lines.lineText(line);
    const cells = new Map<Column, { text: string; span: Span }>();
    // Each cell's column: found in the line's text from where the previous cell ended.
    let col = 0;
    for (let i = 0; i < r.record.length; i++) {
      const value = r.record[i]!;
      const quoted = text[col] === '"';
      const idx = quoted ? col + 1 : col;
      const len = quoted ? value.replace(/"/g, '""').length + 2 : value.length;
      const name = known[i];
      if (name) cells.set(name, new Cell(value.trim(), lines, line, idx + 1, Math.max(1, value.length)));
      col = Math.min(text.length, col + len + 1);
    }
    rows.push({ line, cells, span: lines.line(line) });
  }
  return rows;
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
