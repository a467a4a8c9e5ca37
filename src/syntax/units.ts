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

const isDigit = (c: number) => c >= 48 && c <= 57;
const LINE_TERMINATOR = /[\n\r\u2028\u2029]/;

/** "1.5mbit" → 1.5 and "mbit" (as /^([0-9]+(?:\.[0-9]+)?)(.*)$/ splits it, without a match array). */
export function splitQuantity(text: string): { value: number; unit: string } {
  let i = 0;
  while (i < text.length && isDigit(text.charCodeAt(i))) i++;
  if (i === 0) return { value: NaN, unit: text };
  if (text.charCodeAt(i) === 46 && isDigit(text.charCodeAt(i + 1))) {
    i += 2;
    while (i < text.length && isDigit(text.charCodeAt(i))) i++;
  }
  const unit = text.slice(i);
  // The pattern's '.*' stops at a line terminator: then nothing matched.
  if (LINE_TERMINATOR.test(unit)) return { value: NaN, unit: text };
  return { value: Number(text.slice(0, i)), unit };
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
