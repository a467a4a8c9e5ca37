// `qospolicy status`: the live counters of a policy's classes, by their names in the policy.
// The desired state says which classes there are (classid, device, path in the policy);
// the kernel's counters (state/stats.ts) say what each sent; two samples give a rate.
import { printable } from '../diagnostics/text.js';
import type { DesiredState } from '../model/types.js';
import type { ClassCounters } from '../state/index.js';

export interface StatusRow {
  /** Where the class is in the policy: `wan0 ingress › voice`; a tree's root class is the tree. */
  path: string;
  dev: string;
  classid: string;
  rate: number;
  ceil: number;
  /** Undefined when the class is not on the system (not applied, or changed since). */
  counters?: ClassCounters;
  /** Bits per second sent since the previous sample (watch), when both have the class. */
  bps?: number;
}

export interface StatusSample {
  /** When the counters were read (ms since the epoch). */
  at: number;
  rows: StatusRow[];
}

/** Counters by device, then classid; undefined for a device that could not be read. */
export type CountersByDevice = Map<string, Map<string, ClassCounters> | undefined>;

/** The devices whose classes the policy has. */
export const statusDevices = (desired: DesiredState) => [...new Set(desired.objects.flatMap((o) => (o.kind === 'class' ? [o.dev] : [])))];

/** One sample: every class of the policy with its counters, and its rate since `previous`. */
export function statusSample(desired: DesiredState, counters: CountersByDevice, at: number, previous?: StatusSample): StatusSample {
  const before = new Map(previous?.rows.map((r) => [`${r.dev} ${r.classid}`, r.counters]));
  const rows: StatusRow[] = [];
  for (const o of desired.objects) {
    if (o.kind !== 'class') continue;
    const row: StatusRow = { path: o.origin?.path ?? `${o.dev} ${o.classid}`, dev: o.dev, classid: o.classid, rate: o.rate, ceil: o.ceil };
    const now = counters.get(o.dev)?.get(o.classid);
    if (now) row.counters = now;
    const then = before.get(`${o.dev} ${o.classid}`);
    // Counters that went back belong to a class created again since: no rate from them.
    if (now && then && previous && at > previous.at && now.bytes >= then.bytes) row.bps = ((now.bytes - then.bytes) * 8) / ((at - previous.at) / 1000);
    rows.push(row);
  }
  return { at, rows };
}

export const missingOf = (s: StatusSample) => s.rows.filter((r) => !r.counters).length;

/** One JSON line per sample. */
export function statusJson(s: StatusSample): string {
  const classes = s.rows.map((r) => ({
    path: r.path,
    dev: r.dev,
    classid: r.classid,
    rate: r.rate,
    ceil: r.ceil,
    present: r.counters !== undefined,
    ...r.counters,
    ...(r.bps !== undefined ? { bps: Math.round(r.bps) } : {}),
  }));
  return JSON.stringify({ at: new Date(s.at).toISOString(), classes }) + '\n';
}

/**
 * A table per sample: one row per class, indented by its depth in the tree; the `now`
 * column (bit/s since the previous sample) only when watching. `fair hosts` classes (named
 * by their address: a policy name cannot start with a digit) are listed only while they
 * send; the others are counted in one line.
 */
export function statusText(s: StatusSample, opts: { file: string; watching: boolean }): string {
  const head = ['class', 'classid', 'rate', 'ceil', ...(opts.watching ? ['now'] : []), 'sent', 'packets', 'dropped', 'overlimits', 'backlog'];
  const table: string[][] = [head];
  const notes: string[] = [];
  let idle = 0;
  const flushIdle = (depth: number) => {
    if (idle > 0) table.push([`${'  '.repeat(depth)}… ${idle} host${idle === 1 ? '' : 's'} without traffic`]);
    idle = 0;
  };
  let hostDepth = 0;
  for (const r of s.rows) {
    const parts = r.path.split(' › ');
    const depth = parts.length - 1;
    const name = parts[parts.length - 1]!;
    const host = depth > 0 && /^\d/.test(name);
    if (!host) flushIdle(hostDepth);
    if (host && r.counters && r.counters.bytes === 0) {
      idle++;
      hostDepth = depth;
      continue;
    }
    const c = r.counters;
    const label = depth === 0 ? `${r.path} (${r.dev})` : `${'  '.repeat(depth)}${name}`;
    const dash = '—';
    table.push([
      label,
      r.classid,
      rate(r.rate),
      rate(r.ceil),
      ...(opts.watching ? [r.bps === undefined ? dash : rate(r.bps)] : []),
      c ? bytes(c.bytes) : dash,
      c ? String(c.packets) : dash,
      c ? String(c.drops) : dash,
      c ? String(c.overlimits) : dash,
      c ? `${bytes(c.backlogBytes)} ${c.backlogPackets}p` : dash,
    ]);
  }
  flushIdle(hostDepth);
  const missing = missingOf(s);
  if (missing > 0) notes.push(`${missing} class${missing === 1 ? ' is' : 'es are'} not on the system (—): \`qospolicy plan ${printable(opts.file)}\` shows what differs.`);
  return [`qospolicy status: ${printable(opts.file)} at ${new Date(s.at).toTimeString().slice(0, 8)}`, '', ...align(table), ...(notes.length ? ['', ...notes] : []), ''].join('\n');
}

/** Columns padded to their widest cell; the first two left-aligned, numbers right-aligned. Single-cell rows (notes) as they are. */
function align(table: string[][]): string[] {
  const widths = table[0]!.map((_, i) => Math.max(...table.filter((row) => row.length > 1).map((row) => (row[i] ?? '').length)));
  return table.map((row) => (row.length === 1 ? row[0]! : row.map((cell, i) => (i < 2 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ').trimEnd()));
}

/** bit/s with three significant digits: 950kbit, 12.3mbit. */
function rate(bps: number): string {
  const units: Array<[number, string]> = [
    [1e9, 'gbit'],
    [1e6, 'mbit'],
    [1e3, 'kbit'],
  ];
  for (const [f, unit] of units) if (bps >= f) return `${Number((bps / f).toPrecision(3))}${unit}`;
  return `${Math.round(bps)}bit`;
}

/** Bytes with three significant digits, 1024-based like tc: 1.2MiB. */
function bytes(n: number): string {
  const units: Array<[number, string]> = [
    [1024 ** 3, 'GiB'],
    [1024 ** 2, 'MiB'],
    [1024, 'KiB'],
  ];
  for (const [f, unit] of units) if (n >= f) return `${Number((n / f).toPrecision(3))}${unit}`;
  return `${n}B`;
}
