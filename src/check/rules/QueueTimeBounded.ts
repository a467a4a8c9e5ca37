// QP3009: a class's leaf may hold more than ~100 ms of packets at the class's ceil. Every
// packet behind that queue waits as long (a ping in the class of an upload: 1.1–1.35 s on an
// 800 kbit line with a 64 KiB fifo), so say the figure and how to bring it down.
import { diag } from '../../diagnostics/diagnostic.js';
import type { ClassNode, LeafSpec } from '../../syntax/ast.js';
import { leafParams } from '../../kernel/leaf.js';
import { fifoBytesFor, MTU_FRAME, QUEUE_WARN_TIME, timeOf } from '../../kernel/queue.js';
import type { Rule } from '../rule.js';
import { trees } from '../walk.js';
import { finite, rate } from '../util.js';

/** sfq's own packet limit when none is given (tc-sfq(8)). */
const SFQ_LIMIT = 127;

/** What the leaf holds in bytes at most, and how that reads; undefined when its AQM bounds the time. */
function held(leaf: LeafSpec | undefined, ceil: number): { bytes: number; what: string } | undefined {
  if (!leaf) {
    const bytes = fifoBytesFor(ceil, MTU_FRAME);
    return { bytes, what: `the default leaf holds at least two ${MTU_FRAME}-byte frames` };
  }
  const args = new Map(leafParams(leaf.kind.text, leaf.args.map((a) => a.text)));
  const limit = args.get('limit');
  switch (leaf.kind.text) {
    case 'bfifo':
      return limit ? { bytes: Number(limit), what: `bfifo limit ${limit} bytes` } : held(undefined, ceil);
    case 'pfifo':
      return limit ? { bytes: Number(limit) * MTU_FRAME, what: `pfifo limit ${limit} packets of up to ${MTU_FRAME} bytes` } : held(undefined, ceil);
    case 'sfq': {
      const n = limit ? Number(limit) : SFQ_LIMIT;
      return { bytes: n * MTU_FRAME, what: `sfq limit ${n} packets of up to ${MTU_FRAME} bytes` };
    }
    default:
      return undefined; // fq_codel and cake drop by sojourn time (their target)
  }
}

export const QueueTimeBounded: Rule = {
  name: 'QueueTimeBounded',
  run({ policy, report }) {
    for (const tree of trees(policy)) {
      const rec = (list: ClassNode[], parentCeil: number, inherited: LeafSpec | undefined) => {
        for (const c of list) {
          const ceil = c.ceil?.bps ?? parentCeil;
          const leaf = c.leaf ?? inherited;
          if (c.children.length > 0) {
            rec(c.children, ceil, leaf);
            continue;
          }
          if (!finite(ceil) || ceil <= 0) continue;
          const h = held(leaf, ceil);
          if (!h || !finite(h.bytes)) continue;
          const seconds = timeOf(h.bytes, ceil);
          if (seconds <= QUEUE_WARN_TIME) continue;
          const bound = Math.floor((ceil / 8) * QUEUE_WARN_TIME);
          const floor = 2 * MTU_FRAME;
          const hint =
            bound < floor
              ? `at ${rate(ceil)} two full-sized frames take ${ms(timeOf(floor, ceil))}: raise the ceil to at least ${rate(Math.ceil((floor * 8) / QUEUE_WARN_TIME / 1000) * 1000)}, or accept the delay`
              : leaf && (leaf.kind.text === 'bfifo' || leaf.kind.text === 'pfifo')
                ? `lower the limit to ${leaf.kind.text === 'bfifo' ? `${bound} bytes` : `${Math.max(2, Math.floor(bound / MTU_FRAME))} packets`} (100 ms at ${rate(ceil)}), leave \`limit\` out (the default holds 50 ms), or use \`leaf fq_codel\``
                : `give it \`leaf fq_codel\` (it drops by queue time), or a smaller limit`;
          report(
            diag('QP3009', `class '${c.name.text}' may queue ${ms(seconds)} at its ceil ${rate(ceil)} (${h.what}): every packet behind it waits as long`, c.name.span, {
              hint,
              related: leaf ? [{ span: leaf.span, message: 'the leaf is chosen here' }] : [],
            }),
          );
        }
      };
      rec(tree.classes, tree.rate.bps, tree.leaf);
    }
  },
};

const ms = (s: number) => (s >= 1 ? `${s.toFixed(2)} s` : `${Math.round(s * 1000)} ms`);
