// A forgiving reader for what `tc -j` prints (iproute2 6.1).
//
// `tc -j` output is not always JSON, and where it is, it is not always lossless:
// - u32 nodes with several keys print the key `"match"` once per key in the same
//   object; JSON.parse keeps only the last one, so a plain parser loses keys.
// - u32 `offset … eat` prints bare strings where a key/value pair belongs:
//   `…,"    offset ","offset_mask":"f00",…," eat ",…`.
// - fw filters print `"options":{handle 0x6 classid 1:10 }` (text inside braces).
// So objects keep every entry in order (duplicates included), a string followed by
// `,` or `}` becomes a bare entry with value `null`, and anything else that is not
// JSON inside an object becomes one `['#raw', text]` entry covering the text up to
// the object's closing brace. Nothing here throws on malformed input except where
// even the brace structure is broken; callers then fall back to text.

export type JsonValue = string | number | boolean | null | JsonValue[] | JsonObject;

/** A JSON object as the ordered list of its entries (duplicate keys kept). */
export class JsonObject {
  constructor(readonly entries: Array<[string, JsonValue]>) {}
  /** The first value under `key`. */
  get(key: string): JsonValue | undefined {
    const entries = this.entries;
    for (let i = 0; i < entries.length; i++) if (entries[i]![0] === key) return entries[i]![1]; // (no iterator: runs cold, thousands of times)
    return undefined;
  }
  /** Every value under `key`, in order. */
  all(key: string): JsonValue[] {
    return this.entries.filter(([k]) => k === key).map(([, v]) => v);
  }
  has(key: string): boolean {
    return this.entries.some(([k]) => k === key);
  }
  str(key: string): string | undefined {
    const v = this.get(key);
    return typeof v === 'string' ? v : typeof v === 'number' ? String(v) : undefined;
  }
  num(key: string): number | undefined {
    const v = this.get(key);
    if (typeof v === 'number') return v;
    if (typeof v === 'string' && /^-?\d+$/.test(v)) return Number(v);
    return undefined;
  }
  obj(key: string): JsonObject | undefined {
    const v = this.get(key);
    return v instanceof JsonObject ? v : undefined;
  }
}

/** The key under which unparseable text inside an object is kept. */
export const RAW_KEY = '#raw';

export class JsonSyntaxError extends Error {}

/** Parses one or more concatenated JSON values (`tc -j -batch` prints one array per command). */
export function parseJsonSequence(text: string): JsonValue[] {
  const p = new Reader(text);
  const out: JsonValue[] = [];
  p.ws();
  while (!p.done()) {
    out.push(p.value());
    p.ws();
  }
  return out;
}

/** Parses exactly one JSON value, leniently (see above). */
export function parseJsonLenient(text: string): JsonValue {
  const plain = parseJsonPlain(text);
  return plain ? toJsonValue(plain.value) : readLenient(text);
}

/** The lenient reader alone, for text parseJsonPlain did not take. */
export function readLenient(text: string): JsonValue {
  const values = parseJsonSequence(text);
  if (values.length !== 1) throw new JsonSyntaxError(`expected one JSON value, found ${values.length}`);
  return values[0]!;
}

// ---- the fast path: JSON.parse ----
//
// Most of what tc prints is JSON, and JSON.parse reads it several times faster than the
// reader below. It is used only where it gives exactly what the lenient reader would: u32's
// repeated "match" keys are first rewritten into one array under MATCH_RUN, and the result
// must print back (JSON.stringify) as exactly that text. Then no key was lost to a duplicate
// or moved (JSON.parse puts index-like keys first), and no value read differently; else
// (text where JSON belongs, other duplicates, a number spelled `1.0`…) the lenient reader
// takes over. tc prints compact JSON, so its output does print back.

/** The key a run of consecutive u32 "match" entries is rewritten to (tc never prints it). */
export const MATCH_RUN = 'match[]';
/** One u32 `"match":{…}` (strings without escapes, no nested objects). */
const MATCH = '"match":\\{(?:[^{}"]|"[^"\\\\]*")*\\}';
const MATCH_RUNS = new RegExp(`${MATCH}(?:,${MATCH})+`, 'g');

/**
 * The text as JSON.parse reads it, runs of u32 "match" entries as one array under
 * MATCH_RUN, where that loses nothing the lenient reader would keep; else undefined.
 */
export function parseJsonPlain(text: string): { value: unknown } | undefined {
  if (text.includes(`"${MATCH_RUN}"`)) return undefined;
  // Only a run that starts a key (after `{` or `,`); elsewhere the duplicates stay and fail the check below.
  const rewritten = text.includes('},"match":{')
    ? text.replace(MATCH_RUNS, (run: string, at: number) =>
        text[at - 1] === '{' || text[at - 1] === ',' ? `"${MATCH_RUN}":[${run.slice('"match":'.length).replaceAll(',"match":', ',')}]` : run,
      )
    : text;
  let value: unknown;
  try {
    value = JSON.parse(rewritten);
  } catch {
    return undefined;
  }
  return JSON.stringify(value) === rewritten.trim() ? { value } : undefined;
}

// ---- faster still: a pattern per element ----
//
// The large listings (a thousand qdiscs, thousands of u32 entries) repeat a few shapes.
// Matching each element with one sticky pattern reads them in about half the time of
// JSON.parse plus walking its objects, cold. Patterns built from STR and INT accept only
// strings without escapes and integers as JSON writes them, which JSON.parse reads to
// exactly the captured text and Number(text); callers build what their JSON path builds
// from the same values, and take their JSON path when scanArray gives up.

/** A JSON string without escapes or control characters; captures its text. */
export const STR = '"([^"\\\\\\x00-\\x1f]*)"';
/** An integer as JSON writes it; captures its text. */
export const INT = '(-?(?:0|[1-9]\\d*))';
/** The same pattern, not captured. */
export const uncaptured = (pattern: string) => pattern.replace('(', '(?:');

/**
 * The elements of a JSON array that are all matched back to back by the sticky `element`
 * pattern, each read by `read`; undefined as soon as one is not matched or `read` declines.
 */
export function scanArray<T>(text: string, element: RegExp, read: (m: RegExpExecArray) => T | undefined): T[] | undefined {
  const out: T[] = [];
  if (text === '[]') return out;
  for (let at = 1; text[0] === '['; ) {
    element.lastIndex = at;
    const m = element.exec(text);
    const value = m ? read(m) : undefined;
    if (value === undefined) return undefined;
    out.push(value);
    at = element.lastIndex + 1; // past the `,` or the closing `]`
    if (text[at - 1] === ']') return at === text.length ? out : undefined;
    if (text[at - 1] !== ',') return undefined;
  }
  return undefined;
}

/** A value from parseJsonPlain as the lenient reader gives it (objects as JsonObject, runs as repeated "match"). */
export function toJsonValue(v: unknown): JsonValue {
  if (typeof v !== 'object' || v === null) return v as JsonValue;
  if (Array.isArray(v)) return v.map(toJsonValue);
  const entries: Array<[string, JsonValue]> = [];
  for (const k in v) {
    const x = (v as Record<string, unknown>)[k];
    if (k === MATCH_RUN) for (const m of x as unknown[]) entries.push(['match', toJsonValue(m)]);
    else entries.push([k, toJsonValue(x)]);
  }
  return new JsonObject(entries);
}

// ---- the lenient reader ----

/** A number or a literal, matched where the reader stands (sticky). */
const LITERAL = /-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?|true|false|null/y;

class Reader {
  private i = 0;
  constructor(private readonly s: string) {}

  done(): boolean {
    return this.i >= this.s.length;
  }

  ws(): void {
    // space, tab, newline, carriage return (JSON's whitespace)
    for (let c = this.s.charCodeAt(this.i); c === 32 || c === 9 || c === 10 || c === 13; c = this.s.charCodeAt(++this.i));
  }

  private fail(what: string): never {
    throw new JsonSyntaxError(`${what} at offset ${this.i}: ${JSON.stringify(this.s.slice(this.i, this.i + 30))}`);
  }

  value(): JsonValue {
    this.ws();
    const c = this.s[this.i];
    if (c === '{') return this.object();
    if (c === '[') return this.array();
    if (c === '"') return this.string();
    LITERAL.lastIndex = this.i;
    const lit = LITERAL.exec(this.s);
    if (!lit) this.fail('unexpected input');
    this.i += lit[0].length;
    return lit[0] === 'true' ? true : lit[0] === 'false' ? false : lit[0] === 'null' ? null : Number(lit[0]);
  }

  private string(): string {
    // this.s[this.i] === '"'. Fast path: no escapes before the closing quote.
    const close = this.s.indexOf('"', this.i + 1);
    const plain = close >= 0 ? this.s.slice(this.i + 1, close) : undefined;
    if (plain !== undefined && !plain.includes('\\')) {
      this.i = close + 1;
      return plain;
    }
    let j = this.i + 1;
    let out = '';
    while (j < this.s.length && this.s[j] !== '"') {
      if (this.s[j] === '\\') {
        const e = this.s[j + 1];
        if (e === 'u') {
          out += String.fromCharCode(parseInt(this.s.slice(j + 2, j + 6), 16));
          j += 6;
          continue;
        }
        out += ({ n: '\n', t: '\t', r: '\r', b: '\b', f: '\f' } as Record<string, string>)[e!] ?? e;
        j += 2;
        continue;
      }
      out += this.s[j];
      j++;
    }
    if (j >= this.s.length) this.fail('unterminated string');
    this.i = j + 1;
    return out;
  }

  private array(): JsonValue[] {
    this.i++; // [
    const out: JsonValue[] = [];
    this.ws();
    if (this.s[this.i] === ']') {
      this.i++;
      return out;
    }
    for (;;) {
      out.push(this.value());
      this.ws();
      const c = this.s[this.i++];
      if (c === ']') return out;
      if (c !== ',') this.fail('expected , or ]');
    }
  }

  private object(): JsonObject {
    this.i++; // {
    const entries: Array<[string, JsonValue]> = [];
    for (;;) {
      this.ws();
      const c = this.s[this.i];
      if (c === '}') {
        this.i++;
        return new JsonObject(entries);
      }
      if (c === ',') {
        this.i++;
        continue;
      }
      if (c !== '"') {
        // Not JSON: keep the rest of this object as text.
        entries.push([RAW_KEY, this.rawToClose()]);
        return new JsonObject(entries);
      }
      const key = this.string();
      this.ws();
      const after = this.s[this.i];
      if (after === ':') {
        this.i++;
        entries.push([key, this.value()]);
      } else if (after === ',' || after === '}') {
        entries.push([key, null]); // a bare string where a pair belongs
      } else {
        entries.push([key, null]);
        entries.push([RAW_KEY, this.rawToClose()]);
        return new JsonObject(entries);
      }
    }
  }

  /** Consumes text up to and including the `}` that closes the current object; returns the text before it. */
  private rawToClose(): string {
    const start = this.i;
    let depth = 0;
    let inString = false;
    for (; this.i < this.s.length; this.i++) {
      const c = this.s[this.i];
      if (inString) {
        if (c === '\\') this.i++;
        else if (c === '"') inString = false;
      } else if (c === '"') inString = true;
      else if (c === '{' || c === '[') depth++;
      else if (c === ']') depth--;
      else if (c === '}') {
        if (depth === 0) {
          const raw = this.s.slice(start, this.i).trim();
          this.i++;
          return raw;
        }
        depth--;
      }
    }
    this.fail('unbalanced braces');
  }
}

/**
 * The outermost balanced `open…close` runs of `text` (strings skipped): with '{' '}' the
 * objects of a broken array, with '[{' ']}' the values `tc -j -batch` prints one after another.
 */
export function balancedChunks(text: string, open: string, close: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = -1;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (open.includes(c)) {
      if (depth === 0) start = i;
      depth++;
    } else if (close.includes(c)) {
      depth--;
      if (depth === 0 && start >= 0) out.push(text.slice(start, i + 1));
    }
  }
  return out;
}

/**
 * The values `tc -j -batch` printed, when they are one per command (`count`), else
 * undefined. tc ends each value with a newline and each starts with `[`; `]\n[` cannot
 * occur inside JSON (a string holds no raw newline, `][` needs a comma), so cutting there
 * is exact when it yields `count` pieces. Otherwise (text where JSON belongs) brackets are
 * counted with balancedChunks, which reads every character.
 */
export function batchValues(text: string, count: number): string[] | undefined {
  const trimmed = text.trim();
  if (trimmed.startsWith('[') && trimmed.endsWith(']')) {
    const pieces = trimmed.split(']\n[');
    if (pieces.length === count) return pieces.map((p, i) => (i > 0 ? '[' : '') + p + (i < count - 1 ? ']' : ''));
  }
  const values = balancedChunks(text, '[{', ']}');
  return values.length === count ? values : undefined;
}
