import { qdiscId, type QdiscKind } from '../model/index.js';
import { INT, JsonObject, parseJsonLenient, RAW_KEY, scanArray, STR, uncaptured, type JsonValue } from './json.js';
import { addUnmodeled, type LiveQdisc } from './live.js';
import { normClassid, normHandle, normMinor } from '../kernel/handles.js';
import { codelFromJson, codelParams } from './codel.js';

const MODELED_KINDS = new Set<string>(['htb', 'ingress', 'clsact', 'pfifo', 'bfifo', 'fq_codel', 'taprio', 'tdma']);
/** The parent tc prints for the ingress/clsact qdisc (TC_H_INGRESS with the clsact minor). */
const INGRESS_PARENT = 'ffff:fff1';
/** htb's r2q when none is given (tc-htb(8)). */
const HTB_DEFAULT_R2Q = 10;

/**
 * The qdiscs of one device from `tc -j -d qdisc show dev DEV`.
 *
 * - parent: 'root' for the root qdisc, 'ingress' for ingress/clsact, else the parent classid.
 * - The kernel's default qdiscs (handle `0:`: noqueue, pfifo_fast, mq and its children…)
 *   are left out: nobody owns them, and adding a root qdisc replaces them.
 * - params in the order the compiler writes them: htb → default (lowercase hex minor),
 *   then r2q only when it is not 10; pfifo/bfifo → limit; fq_codel → the options off their
 *   defaults (state/codel.ts); ingress/clsact → none; other
 *   kinds → every scalar option tc prints, in tc's order, as strings.
 * - A qdisc kind the model does not know, a size table (`stab`) and text tc printed where
 *   JSON belongs are kept in `unmodeled`.
 */
export function parseQdiscs(dev: string, jsonText: string): LiveQdisc[] {
  const scanned = scanArray(jsonText.trim(), QDISC, (m) => scanQdisc(dev, m));
  if (scanned) return scanned;
  const list = parseJsonLenient(jsonText);
  if (!Array.isArray(list)) throw new Error(`tc qdisc show: expected a JSON array for ${dev}`);
  const out: LiveQdisc[] = [];
  for (const entry of list) {
    if (!(entry instanceof JsonObject)) continue;
    const kind = entry.str('kind') ?? '?';
    const handle = normHandle(entry.str('handle') ?? '0:');
    if (handle === '0:') continue;
    const rawParent = entry.str('parent');
    const parent =
      entry.get('root') === true ? 'root' : rawParent === INGRESS_PARENT || kind === 'ingress' || kind === 'clsact' ? 'ingress' : normClassid(rawParent ?? '');
    const options = entry.obj('options') ?? new JsonObject([]);
    const q: LiveQdisc = {
      kind: 'qdisc',
      id: qdiscId(dev, parent),
      dev,
      parent,
      handle,
      qdisc: kind as QdiscKind,
      params: qdiscParams(kind, options),
    };
    if (!MODELED_KINDS.has(kind)) addUnmodeled(q, 'qdisc', kind);
    const raw = options.str(RAW_KEY);
    if (raw !== undefined) addUnmodeled(q, 'options', raw);
    const stab = entry.obj('stab');
    if (stab) {
      // The model's size tables: atm/ethernet link layer, overhead and mpu, tc's default mtu/tsize.
      const linklayer = stab.str('linklayer') ?? 'ethernet';
      const rest = flatten(stab).filter(([k]) => !['linklayer', 'overhead', 'mpu', 'mtu', 'tsize', 'cell_log', 'size_log', 'cell_align'].includes(k));
      const defaults = (stab.num('mtu') ?? 2047) === 2047 && (stab.num('tsize') ?? 512) === 512;
      if ((linklayer === 'atm' || linklayer === 'ethernet') && defaults && rest.length === 0) {
        q.stab = { linklayer, overhead: stab.num('overhead') ?? 0, mpu: stab.num('mpu') ?? 0 };
      } else addUnmodeled(q, 'stab', flatten(stab).map(([k, v]) => `${k} ${v}`).join(' '));
    }
    out.push(q);
  }
  return out;
}

// The qdiscs of a tree qospolicy built, read by pattern (see scanArray): an htb root and a
// thousand fifo leaves take a quarter of the time JSON.parse and JsonObject take, cold.
// The values are those the loop above reads, turned into the same qdisc.
const PARENT = `(?:"root":true,"refcnt":${uncaptured(INT)}|"parent":${STR})`;
const HTB_OPTIONS = `"r2q":${INT},"default":${STR},"direct_packets_stat":${uncaptured(INT)},"ver":${uncaptured(STR)},"direct_qlen":${uncaptured(INT)}`;
const QDISC = new RegExp(`\\{"kind":(?:"htb","handle":${STR},${PARENT},"options":\\{${HTB_OPTIONS}\\}|"([pb]fifo)","handle":${STR},${PARENT},"options":\\{"limit":${INT}\\})\\}`, 'y');

function scanQdisc(dev: string, m: RegExpExecArray): LiveQdisc | undefined {
  const htb = m[1] !== undefined;
  const kind = htb ? 'htb' : m[5]!;
  const handle = normHandle(htb ? m[1]! : m[6]!);
  if (handle === '0:') return undefined; // (skipped there: the JSON path is the one that skips)
  const rawParent = htb ? m[2] : m[7];
  const parent = rawParent === undefined ? 'root' : rawParent === INGRESS_PARENT ? 'ingress' : normClassid(rawParent);
  const params: Array<[string, string]> = htb ? [['default', normMinor(m[4]!)]] : [['limit', String(Number(m[8]))]];
  if (htb && Number(m[3]) !== HTB_DEFAULT_R2Q) params.push(['r2q', String(Number(m[3]))]);
  return { kind: 'qdisc', id: qdiscId(dev, parent), dev, parent, handle, qdisc: kind as QdiscKind, params };
}

function qdiscParams(kind: string, options: JsonObject): Array<[string, string]> {
  switch (kind) {
    case 'htb': {
      const params: Array<[string, string]> = [['default', normMinor(options.str('default') ?? '0')]];
      const r2q = options.num('r2q');
      if (r2q !== undefined && r2q !== HTB_DEFAULT_R2Q) params.push(['r2q', String(r2q)]);
      return params;
    }
    case 'pfifo':
    case 'bfifo': {
      const limit = options.str('limit');
      return limit === undefined ? [] : [['limit', limit]];
    }
    case 'fq_codel':
      return codelParams(codelFromJson((k) => options.get(k)));
    case 'ingress':
    case 'clsact':
      return [];
    default:
      return flatten(options).filter(([k]) => k !== RAW_KEY);
  }
}

/** Scalar options as [key, string] pairs; arrays of scalars joined with spaces; nested objects as key.sub. */
function flatten(o: JsonObject, prefix = ''): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const [k, v] of o.entries) {
    const key = prefix + k;
    if (v instanceof JsonObject) out.push(...flatten(v, `${key}.`));
    else if (Array.isArray(v)) {
      if (v.every(isScalar)) out.push([key, v.map(String).join(' ')]);
      else out.push([key, JSON.stringify(v, (_k, x: unknown) => (x instanceof JsonObject ? Object.fromEntries(x.entries) : x))]);
    } else if (v !== null) out.push([key, String(v)]);
  }
  return out;
}

const isScalar = (v: JsonValue) => v === null || ['string', 'number', 'boolean'].includes(typeof v);
