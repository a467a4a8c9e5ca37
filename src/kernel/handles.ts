// Handles and numbers as tc prints them, in the one spelling the model uses.

/** A qdisc handle in the spelling the model uses: `1:`, `a3:` (lowercase hex, no 0x, no leading zeros). */
export function normHandle(text: string): string {
  if (CANONICAL_HANDLE.test(text)) return text; // the common case, without building a new string
  const m = /^(?:0x)?([0-9a-f]+):(?:0*)?$/i.exec(text.trim());
  if (!m) throw new Error(`not a qdisc handle: ${JSON.stringify(text)}`);
  return `${hex(m[1]!)}:`;
}

/** A classid in the model's spelling: `1:a3`; a bare major (`1:`) stays `1:`. */
export function normClassid(text: string): string {
  if (CANONICAL_CLASSID.test(text)) return text;
  const m = /^(?:0x)?([0-9a-f]+):(?:0x)?([0-9a-f]*)$/i.exec(text.trim());
  if (!m) throw new Error(`not a classid: ${JSON.stringify(text)}`);
  return m[2] === '' ? `${hex(m[1]!)}:` : `${hex(m[1]!)}:${hex(m[2]!)}`;
}

/** An htb `default` (`0xa3`, `a3`, `0`) → lowercase hex minor without 0x: `a3`. */
export function normMinor(text: string | number): string {
  if (typeof text === 'number') return text.toString(16);
  const m = /^(?:0x)?([0-9a-f]+)$/i.exec(text.trim());
  if (!m) throw new Error(`not a hex minor: ${JSON.stringify(text)}`);
  return hex(m[1]!);
}

/** A hex string (`13c4`, `0x0005`, `00ff0000`) → unsigned 32-bit number. */
export function parseHex32(text: string): number {
  // parseInt skips the same whitespace and `0x` the pattern allows (a test is cheaper than a match).
  if (!/^\s*(?:0x)?[0-9a-f]{1,8}\s*$/i.test(text)) throw new Error(`not a 32-bit hex number: ${JSON.stringify(text)}`);
  return parseInt(text, 16) >>> 0;
}

const hex = (digits: string) => parseInt(digits, 16).toString(16);

/** Spellings the functions above return unchanged: lowercase hex without 0x or leading zeros (at most 8 digits, exact in a double). */
const PART = '(?:0|[1-9a-f][0-9a-f]{0,7})';
const CANONICAL_HANDLE = new RegExp(`^${PART}:$`);
const CANONICAL_CLASSID = new RegExp(`^${PART}:${PART}?$`);
