// Units, as tc spells them, in both directions: what a policy writes and what tc prints back.
// Rates are bits per second, times nanoseconds, sizes bytes.

export const RATE_UNITS: Record<string, number> = {
  bit: 1,
  kbit: 1e3,
  mbit: 1e6,
  gbit: 1e9,
  tbit: 1e12,
  kibit: 1024,
  mibit: 1024 ** 2,
  gibit: 1024 ** 3,
  tibit: 1024 ** 4,
};

/** tc reads these as bytes per second: the classic ×8 mistake this tool exists to prevent. */
export const BYTE_RATE_UNITS = ['bps', 'kbps', 'mbps', 'gbps', 'tbps', 'kibps', 'mibps', 'gibps', 'tibps'];

export const TIME_UNITS: Record<string, number> = {
  ns: 1,
  us: 1e3,
  ms: 1e6,
  s: 1e9,
  sec: 1e9,
  usec: 1e3,
  msec: 1e6,
};

export function splitQuantity(text: string): { value: number; unit: string } {
  const m = /^([0-9]+(?:\.[0-9]+)?)(.*)$/.exec(text);
  if (!m) return { value: NaN, unit: text };
  return { value: Number(m[1]), unit: m[2] };
}

/** The largest unit that divides a rate exactly, for readable output ("95mbit"). */
export function formatRate(bps: number): string {
  for (const unit of ['gbit', 'mbit', 'kbit'] as const) {
    const f = RATE_UNITS[unit];
    if (bps >= f && bps % f === 0) return `${bps / f}${unit}`;
  }
  return `${bps}bit`;
}

export function formatTime(ns: number): string {
  for (const unit of ['s', 'ms', 'us'] as const) {
    const f = TIME_UNITS[unit];
    if (ns >= f && ns % f === 0) return `${ns / f}${unit}`;
  }
  return `${ns}ns`;
}

const SIZE_UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, kb: 1024, m: 1024 ** 2, mb: 1024 ** 2, g: 1024 ** 3, gb: 1024 ** 3 };

/** A size as tc reads it (`64kb` = 65536 bytes: tc's sizes are binary), in bytes. */
export function sizeBytes(text: string): number {
  const m = /^([0-9]+)([a-z]*)$/i.exec(text);
  const key = m?.[2]?.toLowerCase() ?? 'x';
  const unit = Object.hasOwn(SIZE_UNITS, key) ? SIZE_UNITS[key] : undefined;
  return m && unit ? Number(m[1]) * unit : NaN;
}

// ---- as tc prints them ----

const PRINTED_RATE_UNITS: Record<string, number> = { '': 1, k: 1e3, m: 1e6, g: 1e9, t: 1e12 };
const IEC_RATE_UNITS: Record<string, number> = { k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };

/**
 * A rate as tc prints it (`123bit`, `500Kbit`, `20Mbit`, `1Gbit`; `-iec`: `1Mibit`) → bits per second.
 * tc's rate prefixes are decimal (1000-based) unless `i` follows them.
 */
export function parseRate(text: string): number {
  const m = /^(\d+(?:\.\d+)?)([kmgt]?)(i?)bit$/i.exec(text.trim());
  if (!m) throw new Error(`not a tc rate: ${JSON.stringify(text)}`);
  const prefix = m[2]!.toLowerCase();
  const scale = m[3] ? IEC_RATE_UNITS[prefix] : PRINTED_RATE_UNITS[prefix];
  if (scale === undefined) throw new Error(`not a tc rate: ${JSON.stringify(text)}`);
  return Math.round(Number(m[1]) * scale);
}

/** A size as tc prints it (`1600b`, `15Kb`, `1Mb`, `2Gb`; 1024-based) → bytes. `1600b/1` (cell log) is accepted. */
export function parseSize(text: string): number {
  const m = /^(\d+(?:\.\d+)?)([kmg]?)b(?:\/\d+)?$/i.exec(text.trim());
  if (!m) throw new Error(`not a tc size: ${JSON.stringify(text)}`);
  const scale = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[m[2]!.toLowerCase()]!;
  return Math.round(Number(m[1]) * scale);
}
