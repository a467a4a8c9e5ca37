// Units, as tc spells them, in both directions. Rates are bits per second, times nanoseconds.

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
