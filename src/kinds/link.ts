// A network device: an ifb qospolicy creates, an imq device the module makes, or an
// interface the policy requires. Identity: its name. Brought up and its gso/gro settings
// changed in place; an ifb is deleted, an imq device only taken down (the module owns it).
import type { Link } from '../model/types.js';
import { moduleId } from '../model/ids.js';
import { LINK_SETTINGS } from '../model/types.js';
import type { LiveLink } from '../state/links.js';
import { cmd, CREATE, SAME, type Argv, type FieldChange, type JudgeContext, type Kind, type PlanObject, type ShWriter, type Verdict } from './kind.js';
import { shq } from './quote.js';

function linkCommands(o: Link): string[][] {
  const set = LINK_SETTINGS.flatMap(([field, key]) => (o[field] === undefined ? [] : [key, String(o[field])]));
  const gso = set.length ? [['ip', 'link', 'set', 'dev', o.name, ...set]] : [];
  if (o.type === 'ifb') return [['ip', 'link', 'add', o.name, 'type', 'ifb'], ['ip', 'link', 'set', 'dev', o.name, 'up'], ...gso];
  if (o.type === 'imq') return [['ip', 'link', 'set', 'dev', o.name, 'up'], ...gso];
  return gso;
}

function judgeLink(want: Link, live: PlanObject | undefined, ctx: JudgeContext): Verdict {
  const l = live as LiveLink | undefined;
  if (!l) {
    if (want.type === 'require') {
      if (ctx.mode === 'plan') ctx.error(`interface ${want.name} does not exist: the policy needs it`);
      return SAME;
    }
    if (want.type === 'imq' && ctx.mode === 'plan' && ctx.live(moduleId('imq')))
      ctx.error(`${want.name} does not exist although imq is loaded: it was loaded with fewer devices than the policy needs (numdevs); reload it`);
    return CREATE;
  }
  if (l.type !== want.type) {
    ctx.error(`${want.name} exists but is ${l.driver ? `a ${l.driver}` : 'a physical'} device, not ${want.type}`);
    return SAME;
  }
  if (ctx.mode === 'plan' && want.minTxQueues && l.txQueues < want.minTxQueues) ctx.error(`${want.name} has ${l.txQueues} TX queue(s); taprio needs ${want.minTxQueues}, one per slot`);
  const fields: FieldChange[] = [];
  if (want.type !== 'require' && !l.up) fields.push({ field: 'up', before: false, after: true });
  for (const [field] of LINK_SETTINGS) {
    if (want[field] !== undefined && l[field] !== want[field]) fields.push({ field, before: l[field], after: want[field] });
  }
  return fields.length ? { t: 'update', fields } : SAME;
}

function updateLink(want: Link, fields: FieldChange[]): Argv[] {
  return fields.map((f) => {
    if (f.field === 'up' && want.type !== 'require') return cmd(['ip', 'link', 'set', 'dev', want.name, 'up']);
    const setting = LINK_SETTINGS.find(([field]) => field === f.field && want[field] !== undefined);
    if (!setting) throw new Error(`no in-place change of ${f.field} for link ${want.name}`);
    return cmd(['ip', 'link', 'set', 'dev', want.name, setting[1], String(want[setting[0]])]);
  });
}

/** Waits for a required interface (QOSPOLICY_WAIT) and checks its TX queues, before anything changes. */
function shRequire(o: Link, w: ShWriter): void {
  if (o.type !== 'require') return;
  w.emit(`wait_link ${shq(o.name)} || fail ${w.next()} ${shq(`interface ${o.name} does not exist`)}`);
  if (o.minTxQueues) w.emit(`[ "$(txqueues ${shq(o.name)})" -ge ${o.minTxQueues} ] || fail ${w.next()} ${shq(`${o.name} needs at least ${o.minTxQueues} TX queues for taprio`)}`);
}

function shDevice(o: Link, w: ShWriter): void {
  const [first, ...rest] = linkCommands(o);
  if (o.type === 'ifb') w.emit(`has_link ${shq(o.name)} || run ${w.next()} ${w.words(first!)}`);
  else if (first) w.run(first);
  for (const argv of rest) w.run(argv);
}

export const link: Kind<Link> = {
  plural: 'links',
  address: (o) => `link ${o.name}`,
  detail: (o) => (o.type === 'require' ? 'required interface' : `${o.type} device, up`),
  commands: linkCommands,
  create(o) {
    if (o.type === 'require') throw new Error(`no command creates ${o.name}: it is an interface the policy requires`);
    return linkCommands(o).map(cmd);
  },
  update: (want, _live, fields) => updateLink(want, fields),
  remove(o) {
    // imq devices belong to the module: they cannot be deleted, only taken down.
    if (o.type === 'ifb') return [cmd(['ip', 'link', 'del', 'dev', o.name])];
    if (o.type === 'imq') return [cmd(['ip', 'link', 'set', 'dev', o.name, 'down'])];
    throw new Error(`qospolicy never removes ${o.kind} ${o.id}`);
  },
  judge: judgeLink,
  // A down imq device is as removed as one can be: the module owns it.
  device: (o) => o.name,
  target: (o) => (o.type === 'require' ? undefined : `ingress ${o.type}`),
  // Present and up, with the TX queues it needs (a required interface as well).
  assumed: (o): LiveLink => ({
    kind: 'link',
    id: o.id,
    name: o.name,
    type: o.type,
    up: true,
    txQueues: Math.max(1, o.minTxQueues ?? 1),
    ...Object.fromEntries(LINK_SETTINGS.filter(([field]) => o[field] !== undefined).map(([field]) => [field, o[field]])),
    ...(o.type === 'require' ? {} : { driver: o.type }),
  }),
  deletable: (o, scope) => scope.links.some((x) => x.name === o.name && x.type === o.type) && !(o.type === 'imq' && !(o as LiveLink).up),
  holdsAll: () => true,
  inScope: (o, scope) => scope.devices.includes(o.name),
  own(o, owned) {
    if (o.type !== 'require') owned.links.push({ name: o.name, type: o.type });
    owned.devices.add(o.name);
  },
  sh: { require: shRequire, devices: shDevice },
  batch: (o, out) => void out.ip.push(...linkCommands(o).map((argv) => argv.slice(1).join(' '))),
};
