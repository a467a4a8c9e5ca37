// The u32 classifier's words for one node and one hash table, once: the argv tc is sent and
// the line a plan shows are both made from nodeWords.
import type { Filter, U32Node } from '../model/types.js';
import { canonical } from './compare.js';

const hex32 = (n: number) => `0x${(n >>> 0).toString(16).padStart(8, '0')}`;

/** hex32 of a key's mask: the last one's text again (a run's nodes share their masks, /32 or /64). */
let lastMask = 0;
let lastMaskText = hex32(0);
const maskHex = (n: number) => (n === lastMask ? lastMaskText : (lastMaskText = hex32((lastMask = n))));

/** The fields nodeWords knows; any other is shown as data in a plan, never dropped. */
const NODE_FIELDS = new Set(['ht', 'node', 'keys', 'mark', 'hashkey', 'link', 'flowid', 'connmark', 'action']);

/**
 * A node's words in tc's order, appended to `out`; `tc` spells matches as tc takes them,
 * otherwise as a plan shows them.
 */
function nodeWords(n: U32Node, tc: boolean, out: string[]): string[] {
  if (!tc && n.ht && n.node !== undefined) out.push('handle', nodeHandle(n));
  if (n.ht) out.push('ht', n.ht);
  for (const k of n.keys) {
    if (tc) out.push('match', 'u32', hex32(k.val), maskHex(k.mask), 'at', String(k.off));
    else out.push('match', `${hex32(k.val)}/${maskHex(k.mask)}`, 'at', String(k.off));
  }
  if (n.mark) {
    if (tc) out.push('match', 'mark', hex32(n.mark.val), hex32(n.mark.mask));
    else out.push('mark', `${hex32(n.mark.val)}/${hex32(n.mark.mask)}`);
  }
  if (n.hashkey) out.push('hashkey', 'mask', hex32(n.hashkey.mask), 'at', String(n.hashkey.at));
  if (n.link) out.push('link', n.link);
  if (n.flowid) out.push('flowid', n.flowid);
  if (n.connmark) out.push('action', 'connmark');
  if (n.action?.kind === 'mirred') out.push('action', 'mirred', 'egress', 'redirect', 'dev', n.action.dev);
  else if (n.action?.kind === 'skbedit') out.push('action', 'skbedit', 'priority', n.action.priority);
  return out;
}

/** `ingress`/`egress` hooks are addressed by keyword (valid for both ingress and clsact). */
export const filterParent = (parent: string) => (parent === 'ingress' || parent === 'egress' ? [parent] : ['parent', parent]);

const filterHead = (f: Pick<Filter, 'dev' | 'parent' | 'protocol' | 'prio'>) => ['tc', 'filter', 'add', 'dev', f.dev, ...filterParent(f.parent), 'protocol', f.protocol, 'prio', String(f.prio)];

/** `tc filter add … handle 3a: u32 divisor 256`: a hash table at the filter's prio. */
export function filterTableArgv(f: Filter, t: { handle: string; divisor: number }): string[] {
  return [...filterHead(f), 'handle', t.handle, 'u32', 'divisor', String(t.divisor)];
}

/** A bucket node's handle, `3a:1f:801` (its bucket and its id there). */
export const nodeHandle = (n: U32Node) => `${n.ht}${n.node!.toString(16)}`;

/** `f` needs only the filter's address (dev, parent, protocol, prio): a bucket node is added alone too. */
export function filterNodeArgv(f: Pick<Filter, 'dev' | 'parent' | 'protocol' | 'prio'>, n: U32Node): string[] {
  return nodeWords(n, true, [...filterHead(f), ...(n.ht && n.node !== undefined ? ['handle', nodeHandle(n)] : []), 'u32']);
}

/**
 * `filterNodeArgv(f, n)` without the tool, joined by spaces, from the filter's `head`
 * (`filterHeadText(f)`), made once per filter: a `tc -batch` line per node of 100 000.
 */
export function filterNodeLine(head: string, n: U32Node): string {
  // The usual node of a hashed run (a bucket, its keys, a class): nodeWords' line in templates.
  if (n.ht && n.node === undefined && n.flowid && !n.mark && !n.hashkey && !n.link && !n.connmark && !n.action) {
    let line = `${head} u32 ht ${n.ht}`;
    for (const k of n.keys) line += ` match u32 ${hex32(k.val)} ${maskHex(k.mask)} at ${k.off}`;
    return `${line} flowid ${n.flowid}`;
  }
  const words = nodeWords(n, true, []);
  return `${head}${n.ht && n.node !== undefined ? ` handle ${nodeHandle(n)}` : ''} u32${words.length ? ` ${words.join(' ')}` : ''}`;
}

/** The words every command of the filter starts with, without the tool: `filter add dev … prio N`. */
export const filterHeadText = (f: Pick<Filter, 'dev' | 'parent' | 'protocol' | 'prio'>) => filterHead(f).slice(1).join(' ');

/** A u32 node in tc's words (fields the renderer does not know are shown as data, never dropped). */
export function nodeText(n: U32Node): string {
  const parts = nodeWords(n, false, []);
  if (n.action && n.action.kind !== 'mirred' && n.action.kind !== 'skbedit') parts.push(`action ${canonical(n.action)}`);
  for (const [k, v] of Object.entries(n)) if (!NODE_FIELDS.has(k) && v !== undefined) parts.push(`${k} ${canonical(v)}`);
  return parts.join(' ') || '(matches everything)';
}
