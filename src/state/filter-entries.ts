// One listing of `tc filter show` (JSON or text) → entries: one per tcf_proto (a header
// without options), then for u32 one per hash table (`fh 800: ht divisor 1`) and one per
// node (`fh 800::800 order 2048 key ht 800 bkt 0 …`). Both forms read into the same
// entries; filters.ts groups them into the model's filters.
import { type Action, type U32Key } from '../model/index.js';
import { balancedChunks, INT, JsonObject, JsonSyntaxError, parseJsonLenient, parseJsonPlain, RAW_KEY, readLenient, scanArray, STR, toJsonValue, uncaptured, type JsonValue } from './json.js';
import { normClassid, parseHex32 } from '../kernel/handles.js';

/** A u32 handle `htid:bucket:node` split into numbers. */
export interface U32Handle {
  ht: number;
  bkt: number;
  node: number;
}

export interface NodeItem {
  t: 'node';
  handle: U32Handle;
  text: string;
  keys: U32Key[];
  mark?: { val: number; mask: number };
  flowid?: string;
  actions: Array<ReadAction | string>;
  link?: string;
  hashkey?: { mask: number; at: number };
  extra: Array<[string, string]>;
}

export type Item = { t: 'header' } | { t: 'table'; htid: number; divisor: number; text: string } | NodeItem | { t: 'other'; raw: string };

/** An action as read: the model's, or the connmark restore that may precede a mirred. */
export type ReadAction = Action | { kind: 'connmark' };

export interface Entry {
  protocol: string;
  prio: number;
  kind: string;
  chain: number;
  item: Item;
}


/** The entries of one listing, in the order tc printed them. */
export function readEntries(text: string): Entry[] {
  const trimmed = text.trim();
  if (trimmed === '') return [];
  if (!trimmed.startsWith('[')) return textEntries(trimmed);
  // The shapes qospolicy's own trees list, by pattern; anything else as JSON, by one reader.
  const scanned = scanArray(trimmed, ENTRY, scanEntry);
  if (scanned) return scanned;
  try {
    const plain = parseJsonPlain(trimmed);
    const list = plain ? toJsonValue(plain.value) : readLenient(trimmed);
    if (Array.isArray(list)) return list.filter((e): e is JsonObject => e instanceof JsonObject).map(jsonEntry);
  } catch (e) {
    if (!(e instanceof JsonSyntaxError)) throw e;
  }
  return readBrokenJson(trimmed);
}

// ---- JSON ----

function jsonEntry(o: JsonObject): Entry {
  const protocol = o.str('protocol') ?? '?';
  const prio = o.num('pref') ?? 0;
  const kind = o.str('kind') ?? '?';
  const chain = o.num('chain') ?? 0;
  const options = o.obj('options');
  const item: Item = !options ? { t: 'header' } : kind !== 'u32' ? { t: 'other', raw: jsonText(options) } : u32JsonItem(options);
  return { protocol, prio, kind, chain, item };
}

/** Keys read into the node above, or kernel bookkeeping that is never compared. */
const READ_U32_KEYS = new Set(['fh', 'order', 'key_ht', 'bkt', 'not_in_hw', 'in_hw', 'fwmark_success', 'flowid', 'link', 'match', 'fwmark_value', 'fwmark_mask', 'actions', 'hash_mask', 'hash_off']);

function u32JsonItem(o: JsonObject): Item {
  const fh = o.str('fh') ?? '';
  const divisor = o.num('ht_divisor');
  if (divisor !== undefined) return tableItem(fh, divisor);
  const handle = parseU32Handle(fh);
  if (!handle) return { t: 'other', raw: jsonText(o) };
  const item: NodeItem = { t: 'node', handle, text: `fh ${fh}`, keys: [], actions: [], extra: [] };
  for (const m of o.all('match')) if (m instanceof JsonObject) addMatch(item, m.num('off') ?? 0, parseHex32(m.str('value') ?? '0'), parseHex32(m.str('mask') ?? '0'), m.str('offmask'));
  setNodeFields(item, o.str('flowid'), o.str('link'), o.str('hash_mask'), o.num('hash_off'), o.str('fwmark_value'), o.str('fwmark_mask'));
  const actions = o.get('actions');
  if (Array.isArray(actions)) for (const a of actions) if (a instanceof JsonObject) item.actions.push(jsonAction(a));
  for (const [k, v] of o.entries) {
    if (READ_U32_KEYS.has(k)) continue;
    item.extra.push([k === RAW_KEY ? 'raw' : k.trim(), v === null ? '' : typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? String(v) : jsonText(v)]);
  }
  return item;
}

function tableItem(fh: string, divisor: number): Item {
  return { t: 'table', htid: parseInt(fh, 16), divisor, text: `fh ${fh} ht divisor ${divisor}` };
}

/** One u32 key; a key at a variable offset (`nexthdr+`, offmask set) is not the model's. */
function addMatch(item: NodeItem, off: number, val: number, mask: number, offmask: string | undefined): void {
  const key = { off, val, mask };
  if (offmask) item.extra.push(['match', `${hex8(key.val)}/${hex8(key.mask)} at nexthdr+${key.off}`]);
  else item.keys.push(key);
}

function setNodeFields(item: NodeItem, flowid?: string, link?: string, hashMask?: string, hashOff?: number, markVal?: string, markMask?: string): void {
  if (flowid) item.flowid = normClassid(flowid);
  if (link) item.link = link;
  if (hashMask !== undefined) item.hashkey = { mask: parseHex32(hashMask), at: hashOff ?? 0 };
  if (markVal !== undefined) item.mark = { val: parseHex32(markVal), mask: parseHex32(markMask ?? '0xffffffff') };
}

// A listing of the usual shapes, read by pattern (see scanArray): the trees qospolicy builds
// list thousands of headers, hash tables and u32 nodes with a flowid or a link (2 250 nodes:
// a third of the time of JSON.parse and jsonEntry, cold: 32 ms against 96 at 2 000 nodes,
// median of 7, 2026-12-07), built with jsonEntry's helpers.

const HEX32 = '"([0-9a-f]{1,8})"'; // what parseHex32 takes, bar `0x`, capitals and spaces (those go the JSON way)
const KEY_FIELDS = `"value":${HEX32},"mask":${HEX32},"offmask":${STR},"off":${INT}`;
const ENTRY = new RegExp(
  `\\{"protocol":${STR},"pref":${INT},"kind":${STR},"chain":${INT}(?:\\}|,"options":\\{"fh":${STR},(?:"ht_divisor":${INT}|"order":${uncaptured(INT)},"key_ht":${uncaptured(STR)},"bkt":${uncaptured(STR)}(?:,"flowid":${STR})?(?:,"link":${STR})?,"not_in_hw":true(?:,"match":\\{${KEY_FIELDS}\\}((?:,"match":\\{[^{}]*\\})*))?(?:,"hash_mask":${STR},"hash_off":${INT})?)\\}\\})`,
  'y',
);
/** The keys after the first, one at a time. */
const KEY = new RegExp(`,"match":\\{${KEY_FIELDS}\\}`, 'y');

function scanEntry(m: RegExpExecArray): Entry | undefined {
  // (indexing, not destructuring: an iterator per entry costs more than the match)
  const kind = m[3]!;
  const fh = m[5];
  let item: Item;
  if (fh === undefined) item = { t: 'header' };
  else if (kind !== 'u32') return undefined;
  else if (m[6] !== undefined) item = tableItem(fh, Number(m[6]));
  else {
    const handle = parseU32Handle(fh);
    if (!handle) return undefined;
    const node: NodeItem = { t: 'node', handle, text: `fh ${fh}`, keys: [], actions: [], extra: [] };
    if (m[9] !== undefined) addMatch(node, Number(m[12]), parseInt(m[9], 16), parseInt(m[10]!, 16), m[11]); // hex checked by the pattern
    const more = m[13] ?? '';
    for (KEY.lastIndex = 0; KEY.lastIndex < more.length; ) {
      const k = KEY.exec(more);
      if (!k) return undefined;
      addMatch(node, Number(k[4]), parseInt(k[1]!, 16), parseInt(k[2]!, 16), k[3]);
    }
    setNodeFields(node, m[7], m[8], m[14], m[15] === undefined ? undefined : Number(m[15]));
    item = node;
  }
  return { protocol: m[1]!, prio: Number(m[2]), kind, chain: Number(m[4]), item };
}

/** mirred egress redirect (the only action the model has besides skbedit priority); anything else as text. */
function jsonAction(a: JsonObject): ReadAction | string {
  const kind = a.str('kind');
  if (kind === 'mirred') {
    const control = a.obj('control_action')?.str('type') ?? 'stolen';
    const dev = a.str('to_dev');
    if (a.str('mirred_action') === 'redirect' && a.str('direction') === 'egress' && control === 'stolen' && dev) return { kind: 'mirred', dev };
    return `mirred ${a.str('direction')} ${a.str('mirred_action')} dev ${dev} ${control}`;
  }
  if (kind === 'connmark') {
    // act_connmark in zone 0 restoring into the packet mark, passing the packet on.
    const control = a.obj('control_action')?.str('type') ?? 'pipe';
    if ((a.num('zone') ?? 0) === 0 && control === 'pipe') return { kind: 'connmark' };
  }
  if (kind === 'skbedit') {
    const priority = a.str('priority');
    const others = a.entries.filter(([k]) => !['order', 'kind', 'priority', 'control_action', 'index', 'ref', 'bind', 'installed', 'last_used', 'expires', 'firstused', 'stats', 'not_in_hw', 'used_hw_stats'].includes(k));
    if (priority && others.length === 0) return { kind: 'skbedit', priority: normClassid(priority) };
  }
  const shown = a.entries.filter(([k]) => !['order', 'index', 'ref', 'bind'].includes(k));
  return jsonText(new JsonObject(shown));
}

/**
 * Output that is broken even for the lenient reader: cut it into top-level `{…}` objects
 * by brace counting, read what can be read of each, and keep the rest as text.
 */
function readBrokenJson(text: string): Entry[] {
  const out: Entry[] = [];
  for (const chunk of balancedChunks(text, '{', '}')) {
    try {
      const o = parseJsonLenient(chunk);
      if (o instanceof JsonObject) {
        out.push(jsonEntry(o));
        continue;
      }
    } catch (e) {
      if (!(e instanceof JsonSyntaxError)) throw e;
    }
    const field = (k: string) => new RegExp(`"${k}":\\s*"?([^",}]*)`).exec(chunk)?.[1];
    out.push({
      protocol: field('protocol') ?? '?',
      prio: Number(field('pref') ?? 0),
      kind: field('kind') ?? '?',
      chain: Number(field('chain') ?? 0),
      item: { t: 'other', raw: chunk },
    });
  }
  return out;
}

// ---- text ----

const ENTRY_LINE = /^filter (?:parent \S+ )?protocol (\S+) (?:pref (\d+) )?(\S+) chain (\d+)\s*(.*)$/;

function textEntries(text: string): Entry[] {
  const out: Entry[] = [];
  let current: Entry | undefined;
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const m = ENTRY_LINE.exec(line.trim());
    if (m) {
      const [, protocol, pref, kind, chain, rest] = m;
      current = { protocol: protocol!, prio: Number(pref ?? 0), kind: kind!, chain: Number(chain), item: textItem(kind!, rest!.trim()) };
      out.push(current);
    } else if (current) {
      textContinuation(current, line);
    }
  }
  return out;
}

function textItem(kind: string, rest: string): Item {
  if (rest === '') return { t: 'header' };
  if (kind !== 'u32') return { t: 'other', raw: rest };
  const table = /^fh ([0-9a-f]+): ht divisor (\d+)/.exec(rest);
  if (table) return { t: 'table', htid: parseInt(table[1]!, 16), divisor: Number(table[2]), text: `fh ${table[1]}: ht divisor ${table[2]}` };
  const fh = /^fh (\S+)/.exec(rest);
  const handle = fh && parseU32Handle(fh[1]!);
  if (!handle) return { t: 'other', raw: rest };
  const item: NodeItem = { t: 'node', handle, text: `fh ${fh[1]}`, keys: [], actions: [], extra: [] };
  const tokens = rest.split(/\s+/);
  for (let i = 2; i < tokens.length; i++) {
    const tok = tokens[i]!;
    if (tok === 'order' || tok === 'bkt') i++;
    else if (tok === 'key' && tokens[i + 1] === 'ht') i += 2;
    else if ((tok === 'flowid' || tok === '*flowid') && tokens[i + 1] && /^[0-9a-f]*:[0-9a-f]*$/i.test(tokens[i + 1]!)) item.flowid = normClassid(tokens[++i]!);
    else if (tok === 'terminal' && tokens[i + 1] === 'flowid') i++;
    else if (tok === 'link') item.link = tokens[++i];
    else if (tok === 'not_in_hw' || tok === 'in_hw') continue;
    else item.extra.push([tok, '']);
  }
  return item;
}

function textContinuation(e: Entry, line: string): void {
  const item = e.item;
  const s = line.trim();
  if (item.t === 'other') {
    item.raw += `\n${s}`;
    return;
  }
  if (item.t !== 'node') return;
  let m: RegExpExecArray | null;
  if ((m = /^match ([0-9a-f]{8})\/([0-9a-f]{8}) at (nexthdr\+)?(-?\d+)$/.exec(s))) {
    if (m[3]) item.extra.push(['match', `${m[1]}/${m[2]} at nexthdr+${m[4]}`]);
    else item.keys.push({ off: Number(m[4]), val: parseHex32(m[1]!), mask: parseHex32(m[2]!) });
  } else if ((m = /^mark (0x[0-9a-f]+) (0x[0-9a-f]+)/.exec(s))) {
    item.mark = { val: parseHex32(m[1]!), mask: parseHex32(m[2]!) };
  } else if ((m = /^hash mask ([0-9a-f]{8}) at (\d+)$/.exec(s))) {
    item.hashkey = { mask: parseHex32(m[1]!), at: Number(m[2]) };
  } else if ((m = /^action order \d+:\s*(.*)$/.exec(s))) {
    const mirred = /^mirred \(Egress Redirect to device (\S+)\) stolen$/.exec(m[1]!.trim());
    item.actions.push(mirred ? { kind: 'mirred', dev: mirred[1]! } : m[1]!.trim());
  } else if (/^index \d+ ref \d+ bind \d+/.test(s) || /^(Action statistics|Sent |backlog |\(rule hit)/.test(s)) {
    // kernel bookkeeping: never compared
  } else if (line.startsWith('\t') && typeof item.actions.at(-1) === 'string') {
    item.actions[item.actions.length - 1] += ` ${s}`; // more lines of an action we do not model
  } else {
    item.extra.push([s.split(/\s+/)[0]!, s]);
  }
}

function parseU32Handle(fh: string): U32Handle | undefined {
  const m = /^([0-9a-f]+):([0-9a-f]*):([0-9a-f]+)$/i.exec(fh);
  if (!m) return undefined;
  return { ht: parseInt(m[1]!, 16), bkt: m[2] ? parseInt(m[2], 16) : 0, node: parseInt(m[3]!, 16) };
}

export const hex8 = (n: number) => n.toString(16).padStart(8, '0');

function jsonText(v: JsonValue): string {
  if (v instanceof JsonObject) return `{${v.entries.map(([k, x]) => (k === RAW_KEY ? String(x) : `${JSON.stringify(k)}:${jsonText(x)}`)).join(',')}}`;
  if (Array.isArray(v)) return `[${v.map(jsonText).join(',')}]`;
  return JSON.stringify(v);
}
