// fq_codel as the kernel shows it and as the compiler asks for it, in one vocabulary, so
// that a live fq_codel leaf equals the desired one (tc-fq_codel(8)). tc prints every option
// (times in microseconds, as the kernel rounds them: 23ms reads 22999); the compiler writes
// only what it sets. Both are turned into the options that differ from the kernel's
// defaults, times to a tenth of a millisecond. The quantum's default is the device's MTU
// with its header (1514, 1492 on ppp0), so the compiler always gives it and it is always kept.
import { sizeBytes } from '../kernel/units.js';

const DEFAULTS = { limit: 10240, flows: 1024, target: 5000, interval: 100000, memory_limit: 32 * 1024 * 1024, drop_batch: 64 } as const;
const COUNTS = ['limit', 'flows', 'quantum', 'memory_limit', 'drop_batch'] as const;
const TIMES = ['target', 'interval', 'ce_threshold'] as const;
type Key = (typeof COUNTS)[number] | (typeof TIMES)[number];

export interface Codel {
  values: Partial<Record<Key, number>>;
  /** ECN marking: on unless `noecn`. */
  ecn: boolean;
}

const msText = (us: number) => `${Math.round(us / 100) / 10}ms`;
const isDefault = (k: Key, v: number) => k !== 'quantum' && k in DEFAULTS && (TIMES.includes(k as 'target') ? msText(v) === msText(DEFAULTS[k as 'target']) : v === DEFAULTS[k as 'limit']);

/** The canonical params: options off their defaults in a fixed order, `noecn` last. */
export function codelParams(c: Codel): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const k of [...COUNTS, ...TIMES]) {
    const v = c.values[k];
    if (v === undefined || Number.isNaN(v) || isDefault(k, v)) continue;
    out.push([k, TIMES.includes(k as 'target') ? msText(v) : String(v)]);
  }
  if (!c.ecn) out.push(['noecn', '']);
  return out;
}

/** A time as tc reads it (`5ms`, `500us`, `1s`; a bare number is microseconds), in µs. */
function microseconds(text: string): number {
  const m = /^([0-9.]+)(s|ms|us|usec|msec|sec)?$/.exec(text);
  if (!m) return NaN;
  const n = Number(m[1]);
  const unit = m[2] ?? 'us';
  return unit.startsWith('m') ? n * 1000 : unit.startsWith('u') ? n : n * 1e6;
}

/** From the compiled params (`leafParams`: sizes already in bytes, flags with an empty value). */
export function codelFromParams(params: Array<[string, string]>): Codel {
  const c: Codel = { values: {}, ecn: true };
  for (const [k, v] of params) {
    if (k === 'ecn') c.ecn = true;
    else if (k === 'noecn') c.ecn = false;
    else if ((TIMES as readonly string[]).includes(k)) c.values[k as Key] = microseconds(v);
    else if (k === 'memory_limit') c.values.memory_limit = /^[0-9]+$/.test(v) ? Number(v) : sizeBytes(v);
    else if ((COUNTS as readonly string[]).includes(k)) c.values[k as Key] = Number(v);
  }
  return c;
}

/** From `tc -j qdisc show` options (numbers; times in µs; ecn a boolean). */
export function codelFromJson(get: (key: string) => unknown): Codel {
  const c: Codel = { values: {}, ecn: get('ecn') !== false };
  for (const k of [...COUNTS, ...TIMES]) {
    const v = get(k);
    if (typeof v === 'number') c.values[k] = v;
  }
  return c;
}
