// An htb class. Identity: device and classid. Its rates, prio, quantum and bursts change in
// place (`tc class change` with every parameter); a new parent means delete and add.
import type { HtbClass } from '../model/types.js';
import { linkId, qdiscId } from '../model/ids.js';
import { htbBufferRoundTrip, shownRate, shownSize } from '../kernel/readback.js';
import { formatRate } from '../kernel/units.js';
import { cmd, type Kind } from './kind.js';
import { ownsRoot } from './scope.js';

const IN_PLACE = new Set(['rate', 'ceil', 'prio', 'quantum', 'burst', 'cburst']);

export function classArgv(c: HtbClass): string[] {
  return [
    'tc', 'class', 'add', 'dev', c.dev, 'parent', c.parent, 'classid', c.classid, 'htb',
    'rate', formatRate(c.rate), 'ceil', formatRate(c.ceil), 'prio', String(c.prio),
    'quantum', String(c.quantum), 'burst', `${c.burst}b`, 'cburst', `${c.cburst}b`,
  ];
}

/** `tc class change`: every parameter, since htb resets what a change leaves out. */
export function classChangeArgv(c: HtbClass): string[] {
  const argv = classArgv(c);
  argv[2] = 'change';
  return argv;
}

/** A burst to send that the kernel shows as `shown` at this rate (the nearest such value). */
export function sentBurst(bits: number, shown: number): number {
  const rate = Math.floor(bits / 8) * 8;
  const shows = (b: number) => shownSize(htbBufferRoundTrip(rate, b)) === shown;
  for (let d = 0; d <= 4096; d++) {
    if (shows(shown + d)) return shown + d;
    if (d > 0 && shown - d > 0 && shows(shown - d)) return shown - d;
  }
  return shown;
}

export const htbClass: Kind<HtbClass> = {
  plural: 'classes',
  address: (o) => `class ${o.dev} ${o.classid}`,
  detail: (o) => `parent ${o.parent} rate ${formatRate(o.rate)} ceil ${formatRate(o.ceil)} prio ${o.prio} quantum ${o.quantum} burst ${o.burst}b cburst ${o.cburst}b`,
  valueText(field, v) {
    if ((field === 'rate' || field === 'ceil') && typeof v === 'number') return formatRate(v);
    if ((field === 'burst' || field === 'cburst') && typeof v === 'number') return `${v}b`;
    return undefined;
  },
  commands: (o) => [classArgv(o)],
  create: (o) => [cmd(classArgv(o))],
  update: (want) => [cmd(classChangeArgv(want))],
  remove: (o) => [cmd(['tc', 'class', 'del', 'dev', o.dev, 'classid', o.classid])],
  /**
   * A burst or cburst that differs only because its rate does. The kernel holds a burst as a
   * transmit time at the class's rate, and tc shows it as bytes again at that rate (see
   * state/readback.ts): one size sent at two rates reads back as two sizes (67136b reads
   * 67133b at 10mbit, 67128b at 30mbit). The size changes only when the live reading is not
   * what the size now sent would read at the live rate. (When the rate is the same, the
   * readbacks compare exactly; when it differs, `tc class change` sends every parameter
   * anyway, so no command depends on this.)
   */
  ignores(f, sent, live) {
    if (f.field !== 'burst' && f.field !== 'cburst') return false;
    const rate = f.field === 'burst' ? live.rate : live.ceil;
    if (rate === shownRate(f.field === 'burst' ? sent.rate : sent.ceil)) return false;
    return shownSize(htbBufferRoundTrip(rate, sent[f.field])) === live[f.field];
  },
  decide(_want, _live, fields) {
    const names = fields.map((f) => f.field);
    if (names.every((f) => IN_PLACE.has(f))) return { t: 'update', fields };
    if (names.includes('parent'))
      return { t: 'replace', fields, reason: 'an htb class cannot move to another parent (tc class change accepts a new parent and ignores it): it is deleted and added again' };
    return { t: 'replace', fields, reason: `${names.filter((f) => !IN_PLACE.has(f)).join(', ')} cannot be changed in place` };
  },
  containers(o, live) {
    const out = live.scope.links.some((x) => x.name === o.dev && x.type === 'ifb') ? [linkId(o.dev)] : [];
    out.push(qdiscId(o.dev, 'root'));
    return out.filter((id) => live.has(id));
  },
  /** Its children, and filters that point at it: htb refuses to delete a class in use. */
  prerequisites: (o, live) => ({ ids: live.users(o.dev, o.classid), reason: (cause, what) => `must go before ${cause} is ${what} (htb refuses to delete a class in use)` }),
  // htb bursts pass through the kernel's time ticks and tc's printing.
  restore: (o) => ({ ...o, burst: sentBurst(o.rate, o.burst), cburst: sentBurst(o.ceil, o.cburst) }),
  device: (o) => o.dev,
  hangs: (o, index) => index.user(o.dev, o.parent, o.id),
  inScope: (o, scope) => ownsRoot(o.dev, scope),
};
