// What a policy needs of the kernel, in the words of `target { features … }` (FEATURES),
// each with the construct that needs it: checked against the declared features (the
// FeaturesAvailable rule) and against what the running kernel offers (plan, apply,
// `check --kernel`: probed by src/state/features.ts).
import { diag, type Diagnostic } from '../diagnostics/diagnostic.js';
import type { Span } from '../diagnostics/span.js';
import type { Policy } from '../syntax/ast.js';
import { FEATURES, type Feature } from '../kernel/features.js';
import { FAIR_LEAVES } from '../kernel/leaf.js';
import type { Settings } from './rule.js';
import { everyClass, everyMatch } from './util.js';
import { trees } from './walk.js';
import { defaultLeafKind } from '../kernel/queue.js';

/**
 * Each feature the policy needs and the first construct that needs it. `fair flows`
 * without a leaf takes the first fair leaf in `have` (fq_codel when nothing is known).
 */
export function neededFeatures(policy: Policy, settings: Settings, have?: ReadonlySet<string>): Map<Feature, Span> {
  const needs = new Map<Feature, Span>();
  const need = (f: string, span: Span) => void ((FEATURES as readonly string[]).includes(f) && !needs.has(f as Feature) && needs.set(f as Feature, span));
  for (const t of trees(policy)) {
    need('htb', t.span);
    const backend = t.owner.kind === 'shared' || t.direction === 'ingress' ? (t.backend ?? settings.ingress) : undefined;
    if (backend === 'ifb') ['ifb', 'mirred', 'u32', t.direction === 'egress' ? 'clsact' : 'ingress'].forEach((f) => need(f, t.span));
    if (backend === 'imq') need('imq', t.span);
    if (!t.leaf) need(defaultLeafKind(have), t.span); // the default leaf: fq_codel where the kernel has it, else bfifo
    else need(t.leaf.kind.text, t.leaf.kind.span);
    everyClass(t, (cls) => {
      if (cls.leaf) need(cls.leaf.kind.text, cls.leaf.kind.span);
      if (cls.fair?.kind === 'flows' && !cls.leaf) need(FAIR_LEAVES.find((k) => have?.has(k)) ?? 'fq_codel', cls.fair.span);
      if (cls.fair?.kind === 'hosts' || cls.matches.length) need('u32', (cls.fair ?? cls).span);
    });
  }
  for (const i of policy.interfaces) {
    const f = i.link?.framing;
    if (f && (f.named || f.overhead || f.mpu || f.linklayer || f.vlan)) need('stab', (f.named ?? f.overhead ?? f.mpu ?? f.linklayer ?? { span: f.vlan! }).span);
  }
  everyMatch(policy, (m) => {
    for (const c of m.criteria) {
      if (c.kind === 'mark') need('u32-mark', c.span); // connmark too: the restored mark is matched by u32
      if (c.kind === 'mark' && c.conntrack) need('connmark', c.span);
    }
  });
  for (const b of policy.tdma) {
    if (settings.tdma === 'taprio') ['taprio', 'clsact', 'skbedit'].forEach((f) => need(f, b.span));
    else need('sch_tdma', b.span);
  }
  return needs;
}

/** The features to look for in the running kernel: what the policy needs, every fair leaf `fair flows` could use, and fq_codel for default leaves. */
export function featuresToProbe(policy: Policy, settings: Settings): Feature[] {
  const out = new Set(neededFeatures(policy, settings).keys());
  let fairFlows = false;
  for (const t of trees(policy)) everyClass(t, (cls) => void (fairFlows ||= cls.fair?.kind === 'flows' && !cls.leaf));
  if (fairFlows) FAIR_LEAVES.forEach((k) => out.add(k));
  // The default leaf is fq_codel where the kernel has it: ask, where a tree names no leaf.
  if (trees(policy).some((t) => !t.leaf)) out.add('fq_codel');
  return [...out];
}

/** The kernel module (or kernel option) behind a feature, for hints. */
const SOURCE: Partial<Record<Feature, string>> = {
  htb: 'sch_htb', u32: 'cls_u32', 'u32-mark': 'CONFIG_CLS_U32_MARK', ingress: 'sch_ingress', clsact: 'sch_ingress', ifb: 'ifb',
  mirred: 'act_mirred', skbedit: 'act_skbedit', connmark: 'act_connmark', stab: 'CONFIG_NET_SCHED', pfifo: 'sch_fifo', bfifo: 'sch_fifo',
  fq_codel: 'sch_fq_codel', sfq: 'sch_sfq', cake: 'sch_cake', taprio: 'sch_taprio', sch_tdma: 'sch_tdma', imq: 'imq (IMQ-patched kernel)',
};

/**
 * QP2022 for each feature the policy needs that the running kernel (settings.kernel, as
 * probed) lacks, at the construct that needs it. None when the kernel was not probed.
 */
export function checkKernel(policy: Policy, settings: Settings): Diagnostic[] {
  const kernel = settings.kernel;
  if (!kernel) return [];
  const out: Diagnostic[] = [];
  for (const [feature, span] of neededFeatures(policy, settings, kernel)) {
    if (kernel.has(feature)) continue;
    const source = SOURCE[feature];
    out.push(
      diag('QP2022', `the running kernel lacks ${feature}, which this policy needs`, span, {
        hint: `${source ? `the kernel needs ${source}; ` : ''}load it, or change the policy (\`qospolicy check\` without --kernel checks the policy alone)`,
      }),
    );
  }
  return out;
}

/**
 * taprio gives each slot a traffic class and a TX queue of its own: a TDMA device with fewer
 * TX queues than slots cannot run the schedule (QP2022 at its block). `txQueues` holds the
 * devices that exist, as read from the running system.
 */
export function checkTxQueues(policy: Policy, settings: Settings, txQueues: ReadonlyMap<string, number>): Diagnostic[] {
  if (settings.tdma !== 'taprio') return [];
  return policy.tdma.flatMap((b) => {
    const have = txQueues.get(b.iface.text);
    const need = b.slots.length;
    if (have === undefined || have >= need) return [];
    return [
      diag('QP2022', `${b.iface.text} has ${have} TX queue${have === 1 ? '' : 's'}; taprio needs ${need}, one per slot`, b.iface.span, {
        hint: `a device's TX queues are set when it is made (\`ip link add … numtxqueues ${need}\`) or by its driver (\`ethtool -L ${b.iface.text} tx ${need}\`)`,
      }),
    ];
  });
}

/** The TDMA devices whose TX queues matter (taprio). */
export const tdmaDevices = (policy: Policy, settings: Settings): string[] => (settings.tdma === 'taprio' ? policy.tdma.map((b) => b.iface.text) : []);
