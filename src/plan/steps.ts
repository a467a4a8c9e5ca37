// The exact commands of each change. Creation reuses src/render/commands.ts (the commands
// the boot script and batch files run); removal and in-place change are built here.
// Every object kind has a builder for every action it can take; anything else throws, so a
// change can never silently come out without its commands.
import type { HtbClass, ModuleLoad, Qdisc } from '../model/types.js';
import { LINK_SETTINGS } from '../model/types.js';
import { classArgv, createArgvs, iptablesBin, qdiscArgv } from '../render/commands.js';
import { unmodeledOf, type IptablesChain } from '../state/index.js';
import type { FieldChange, PlanObject, Step, Tool } from './types.js';

export type Argv = { tool: Tool; argv: string[] };

const cmd = (argv: string[]): Argv => ({ tool: argv[0] as Tool, argv });
const sysfsWrite = (path: string, value: string): Argv => ({ tool: 'sysfs', argv: [path, value] });

export const moduleParamPath = (module: string, param: string) => `/sys/module/${module}/parameters/${param}`;

/** `ingress`/`egress` hooks are addressed by keyword (valid for both ingress and clsact). */
const filterParent = (parent: string) => (parent === 'ingress' || parent === 'egress' ? [parent] : ['parent', parent]);

/** Commands that create a desired object. */
export function createSteps(o: PlanObject): Argv[] {
  switch (o.kind) {
    case 'chain': {
      const bin = iptablesBin(o.family);
      return [cmd([bin, '-t', o.table, '-N', o.chain]), cmd([bin, '-t', o.table, '-A', o.hook, '-j', o.chain])];
    }
    case 'sysfs':
      return [sysfsWrite(o.path, o.value)];
    case 'link':
      if (o.type === 'require') throw new Error(`no command creates ${o.name}: it is an interface the policy requires`);
      return createArgvs(o).map(cmd);
    default:
      return createArgvs(o).map(cmd);
  }
}

/** `tc class change`: every parameter, since htb resets what a change leaves out. */
export function classChangeArgv(c: HtbClass): string[] {
  const argv = classArgv(c);
  argv[2] = 'change';
  return argv;
}

/** `tc qdisc change` of a leaf qdisc (pfifo/bfifo limit); queue and counters survive. */
export function qdiscChangeArgv(q: Qdisc): string[] {
  const argv = qdiscArgv(q);
  argv[2] = 'change';
  return argv;
}

/** Commands that change a live object in place into the desired one. */
export function updateSteps(want: PlanObject, live: PlanObject, fields: FieldChange[]): Argv[] {
  switch (want.kind) {
    case 'class':
      return [cmd(classChangeArgv(want))];
    case 'qdisc':
      if (want.parent === 'root' || want.parent === 'ingress') break;
      return [cmd(qdiscChangeArgv(want))];
    case 'link': {
      const out: Argv[] = [];
      for (const f of fields) {
        if (f.field === 'up' && want.type !== 'require') out.push(cmd(['ip', 'link', 'set', 'dev', want.name, 'up']));
        else if (LINK_SETTINGS.some(([field]) => field === f.field && want[field] !== undefined)) {
          const [field, key] = LINK_SETTINGS.find(([k]) => k === f.field)!;
          out.push(cmd(['ip', 'link', 'set', 'dev', want.name, key, String(want[field])]));
        }
        else throw new Error(`no in-place change of ${f.field} for link ${want.name}`);
      }
      return out;
    }
    case 'chain': {
      const jumps = (live as IptablesChain).jumps;
      const bin = iptablesBin(want.family);
      const jump = [want.hook, '-j', want.chain];
      if (jumps === 0) return [cmd([bin, '-t', want.table, '-A', ...jump])];
      return Array.from({ length: jumps - 1 }, () => cmd([bin, '-t', want.table, '-D', ...jump]));
    }
    case 'module':
      if (!want.runtime) break;
      return fields.map((f) => sysfsWrite(moduleParamPath(want.module, f.field), String((want as ModuleLoad).params[f.field])));
    case 'sysfs':
      return [sysfsWrite(want.path, want.value)];
    default:
      break;
  }
  throw new Error(`no in-place change for ${want.kind} ${want.id}`);
}

/** Commands that remove a live object (for a replace: its removal half). */
export function deleteSteps(o: PlanObject): Argv[] {
  switch (o.kind) {
    case 'qdisc':
      if (o.parent === 'root') return [cmd(['tc', 'qdisc', 'del', 'dev', o.dev, 'root'])];
      // `del … ingress` refuses a clsact and vice versa ("must match existing qdisc").
      if (o.parent === 'ingress') return [cmd(['tc', 'qdisc', 'del', 'dev', o.dev, ...(o.qdisc === 'ingress' || o.qdisc === 'clsact' ? [o.qdisc] : ['parent', 'ffff:fff1'])])];
      return [cmd(['tc', 'qdisc', 'del', 'dev', o.dev, 'parent', o.parent, 'handle', o.handle])];
    case 'class':
      return [cmd(['tc', 'class', 'del', 'dev', o.dev, 'classid', o.classid])];
    case 'filter': {
      // The whole prio goes: u32 nodes cannot be changed one by one in place.
      const chain = unmodeledOf(o).find(([what]) => what === 'chain')?.[1];
      return [cmd(['tc', 'filter', 'del', 'dev', o.dev, ...filterParent(o.parent), ...(chain ? ['chain', chain] : []), 'protocol', o.protocol, 'prio', String(o.prio)])];
    }
    case 'iptables':
      return [cmd([iptablesBin(o.family), '-t', o.table, '-D', o.chain, ...o.args])];
    case 'chain': {
      const bin = iptablesBin(o.family);
      return [
        ...Array.from({ length: o.jumps }, () => cmd([bin, '-t', o.table, '-D', o.hook, '-j', o.chain])),
        cmd([bin, '-t', o.table, '-F', o.chain]),
        cmd([bin, '-t', o.table, '-X', o.chain]),
      ];
    }
    case 'link':
      // imq devices belong to the module: they cannot be deleted, only taken down.
      if (o.type === 'ifb') return [cmd(['ip', 'link', 'del', 'dev', o.name])];
      if (o.type === 'imq') return [cmd(['ip', 'link', 'set', 'dev', o.name, 'down'])];
      break;
    case 'module':
    case 'sysfs':
      break;
  }
  throw new Error(`qospolicy never removes ${o.kind} ${o.id}`);
}

/** A step as one shell-readable line (for people; apply runs argv). */
export function stepText(s: Pick<Step, 'tool' | 'argv'>): string {
  if (s.tool === 'sysfs') return `printf '%s\\n' ${quote(s.argv[1]!)} > ${quote(s.argv[0]!)}`;
  return s.argv.map(quote).join(' ');
}

const quote = (w: string) => (/^[A-Za-z0-9_@%+=:,./-]+$/.test(w) ? w : `'${w.replace(/'/g, `'\\''`)}'`);
