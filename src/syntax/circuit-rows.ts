// ShapedDevices.csv → rows: each cell's text with its line and column, so that every bad row
// is reported at its own file:line:column. `circuits.ts` makes classes of them.
import Papa from 'papaparse';
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
export type Column = (typeof CIRCUIT_COLUMNS)[number];
/** Columns a row cannot do without (the others may be absent from the header). */
const REQUIRED: Column[] = ['Circuit ID', 'IPv4', 'IPv6', 'Download Min Mbps', 'Upload Min Mbps', 'Download Max Mbps', 'Upload Max Mbps'];

export interface TextFile {
  path: string;
  text: string;
}

/** A file's lines, for offset → line/column (the one place a CSV/JSON position is made). */
export class Lines {
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
    return new LineSpan(this, line, col, end);
  }
  /** Columns `from` to `to` (not clipped) counted from where `span` starts, on its line. */
  within(span: Span, from: number, to: number): Span {
    const { line, col } = span.start;
    return new LineSpan(this, line, col + from, col + to);
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

/** A cell of a row: its text (trimmed) and its span. */
export interface CellText {
  text: string;
  span: Span;
}

/**
 * A span on one line of a CSV or JSON file, its positions made when read: a 50 000-row list
 * has some 300 000 spans (cells, rows, addresses), and only a bad row's are ever read. As
 * JSON it is a plain span.
 */
class LineSpan implements Span {
  readonly file: string;
  constructor(
    private readonly lines: Lines,
    private readonly line: number,
    private readonly col: number,
    private readonly endCol: number,
  ) {
    this.file = lines.file;
  }
  get start(): Position {
    return this.lines.pos(this.line, this.col);
  }
  get end(): Position {
    return this.lines.pos(this.line, this.endCol);
  }
  toJSON(): Span {
    return { file: this.file, start: this.start, end: this.end };
  }
}

/** A cell's text, and its span made when first asked (most cells are never reported). */
class Cell implements CellText {
  private made: Span | undefined;
  constructor(
    readonly text: string,
    private readonly row: Row,
    private readonly i: number,
    private readonly len: number,
  ) {}
  get span(): Span {
    return (this.made ??= this.row.spanOf(this.i, this.len));
  }
}

/** What the rows of one file share: its lines and where each column is in a record. */
interface RowsOf {
  lines: Lines;
  /** Column → index in a record (absent: not in the header). */
  index: Map<Column, number>;
}

/**
 * One row of the CSV: its record as papaparse read it, each cell's span made only when asked
 * (a 50 000-row list keeps no object per cell: most of a row's 13 cells never need one).
 */
export class Row {
  /** Its addresses as read for the first tree: the rows are cached, the `up` tree reuses them. */
  read?: { prefixes?: A.Prefix[]; ranges?: Array<{ lo: bigint; hi: bigint }>; diagnostics: Diagnostic[] };
  readonly span: Span;
  constructor(
    readonly line: number,
    private readonly record: string[],
    private readonly of: RowsOf,
  ) {
    this.span = of.lines.line(line);
  }

  /** The lines of its file (spans within a cell). */
  get lines(): Lines {
    return this.of.lines;
  }

  /** The cell of a column, undefined when the header lacks it or the record is short. */
  cell(c: Column): CellText | undefined {
    const i = this.of.index.get(c);
    const value = i === undefined ? undefined : this.record[i];
    if (value === undefined) return undefined;
    return new Cell(value.trim(), this, i!, Math.max(1, value.length));
  }

  /** The span of cell `i`, `len` characters. */
  spanOf(i: number, len: number): Span {
    return this.of.lines.span(this.line, this.column(i), len);
  }

  /** The 1-based column where cell `i`'s value starts: found in the line from where each cell before it ended. */
  private column(i: number): number {
    const text = this.of.lines.lineText(this.line);
    let col = 0;
    for (let k = 0; ; k++) {
      const quoted = text[col] === '"';
      if (k === i) return (quoted ? col + 1 : col) + 1;
      const value = this.record[k]!;
      const len = quoted ? value.replace(/"/g, '""').length + 2 : value.length;
      col = Math.min(text.length, col + len + 1);
    }
  }
}

/** A list read once per policy: a `down` and an `up` tree read the same file (the same text) one after the other. */
export type RowsCache = Map<string, { text: string; rows: Row[]; diagnostics: Diagnostic[] }>;

export function cachedRows(csv: TextFile, at: Span, out: Diagnostic[], cache: RowsCache): Row[] {
  let read = cache.get(csv.path);
  if (read?.text !== csv.text) {
    const diagnostics: Diagnostic[] = [];
    read = { text: csv.text, rows: readRows(csv, new Lines(csv.path, csv.text), at, diagnostics), diagnostics };
    cache.set(csv.path, read);
  }
  out.push(...read.diagnostics);
  return read.rows;
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
  // A column named twice: its last cell counts (as when each cell was filed under its name).
  const index = new Map<Column, number>();
  columns.forEach((c, i) => (CIRCUIT_COLUMNS as readonly string[]).includes(c) && index.set(c as Column, i));
  const of: RowsOf = { lines, index };
  return data.map((r) => new Row(lines.at(r.start).start.line, r.record, of));
}
