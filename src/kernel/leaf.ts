// Leaf qdiscs the language offers, with the arguments tc takes for each (tc-pfifo(8),
// tc-bfifo(8), tc-fq_codel(8), tc-sfq(8), tc-cake(8)). The checker validates `leaf`
// statements against this table; the backend uses it to pair arguments with values.
import { sizeBytes } from './units.js';

export type ArgKind = 'count' | 'size' | 'time' | 'flag' | 'seconds';

export const LEAF_KINDS: Record<string, Record<string, ArgKind>> = {
  pfifo: { limit: 'count' },
  bfifo: { limit: 'size' },
  fq_codel: {
    limit: 'count', flows: 'count', target: 'time', interval: 'time', quantum: 'count',
    memory_limit: 'size', ce_threshold: 'time', drop_batch: 'count', ecn: 'flag', noecn: 'flag',
  },
  sfq: { limit: 'count', perturb: 'seconds', quantum: 'count', divisor: 'count', flows: 'count', depth: 'count', headdrop: 'flag' },
  cake: {
    rtt: 'time', memlimit: 'size', besteffort: 'flag', diffserv3: 'flag', diffserv4: 'flag', diffserv8: 'flag',
    precedence: 'flag', flowblind: 'flag', srchost: 'flag', dsthost: 'flag', hosts: 'flag', flows: 'flag',
    'dual-srchost': 'flag', 'dual-dsthost': 'flag', 'triple-isolate': 'flag', nat: 'flag', nonat: 'flag',
    wash: 'flag', nowash: 'flag', 'ack-filter': 'flag', 'ack-filter-aggressive': 'flag', 'no-ack-filter': 'flag',
    'split-gso': 'flag', 'no-split-gso': 'flag',
  },
};

/** Qdiscs that share a class among flows: what `fair flows` needs, in order of preference. */
export const FAIR_LEAVES = ['fq_codel', 'cake', 'sfq'] as const;

/**
 * Pairs `leaf` arguments as [key, value]; flags get ''. Sizes become plain bytes, the
 * spelling tc prints back. Unknown keys pass through (the checker reports them).
 */
export function leafParams(kind: string, args: string[]): Array<[string, string]> {
  const table = Object.hasOwn(LEAF_KINDS, kind) ? LEAF_KINDS[kind]! : {};
  const out: Array<[string, string]> = [];
  for (let i = 0; i < args.length; i++) {
    const k = args[i];
    const type = Object.hasOwn(table, k) ? table[k] : undefined;
    if (type === 'flag' || i + 1 >= args.length) out.push([k, '']);
    else if (type === 'size') out.push([k, String(sizeBytes(args[++i]))]);
    else out.push([k, args[++i]]);
  }
  return out;
}
