// The kernel features a policy may need, by the names `target { features … }` uses; the
// checker reports missing ones, state/features.ts probes a running kernel for them.

/** What the target kernel must have, by the names `target { features … }` uses. */
export const FEATURES = [
  'htb', 'u32', 'u32-mark', 'ingress', 'clsact', 'ifb', 'imq', 'mirred', 'skbedit', 'connmark', 'stab',
  'pfifo', 'bfifo', 'fq_codel', 'sfq', 'cake', 'taprio', 'sch_tdma', 'netqos',
] as const;

export type Feature = (typeof FEATURES)[number];
