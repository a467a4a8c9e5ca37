// What qospolicy owns: the attachment points, devices and chains of the desired state, plus
// those a previous apply recorded in its state file (so a tree or device the policy no
// longer has is removed rather than forgotten).
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { DesiredState, KernelObject } from '../model/types.js';
import { deviceOf, kindOf, ownedSets } from '../kinds/index.js';
import type { LiveItem, LiveLink, OwnedChain, Scope } from '../state/index.js';

export interface Owned {
  /** Devices whose root qdisc tree is owned. */
  roots: string[];
  /** Devices whose ingress/clsact hook is owned. */
  hooks: string[];
  /** ifb/imq devices created or set up. */
  links: Array<{ name: string; type: 'ifb' | 'imq' }>;
  chains: OwnedChain[];
}

export interface StateFile {
  format: 'qospolicy-state';
  version: 1;
  /** The policy last applied. */
  policy?: { file: string; sha256: string };
  owned: Owned;
  /**
   * Written before an apply changes anything (owned is then what it had plus what it
   * makes) and dropped when it is done: a run killed in between leaves this, and its
   * scope covers every object it may have touched, so the next apply completes or undoes it.
   */
  incomplete?: { since: string; pid: number };
}

export const DEFAULT_STATE_DIR = '/var/lib/qospolicy';
export const STATE_FILE = 'state.json';

/** The state directory: $QOSPOLICY_STATE_DIR, else /var/lib/qospolicy. */
export const stateDir = (env: NodeJS.ProcessEnv = process.env) => env.QOSPOLICY_STATE_DIR || DEFAULT_STATE_DIR;

const uniq = <T>(xs: T[], key: (x: T) => string) => [...new Map(xs.map((x) => [key(x), x])).values()];
const byName = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** What applying these objects makes qospolicy own. */
export function ownedOf(objects: KernelObject[]): Owned {
  const { roots, hooks, links, chains } = ownedSets(objects);
  return normalize({ roots: [...roots], hooks: [...hooks], links, chains });
}

function normalize(o: Owned): Owned {
  return {
    roots: [...new Set(o.roots)].sort(byName),
    hooks: [...new Set(o.hooks)].sort(byName),
    links: uniq(o.links, (l) => l.name).sort((a, b) => byName(a.name, b.name)),
    chains: uniq(o.chains, (c) => `${c.family}/${c.chain}`).sort((a, b) => a.family - b.family || byName(a.chain, b.chain)),
  };
}

/** The scope of a plan: the desired state's own, plus what a previous apply owned. */
export function scopeFor(desired: DesiredState, previous?: Owned): Scope {
  const now = ownedOf(desired.objects);
  const all = normalize({
    roots: [...now.roots, ...(previous?.roots ?? [])],
    hooks: [...now.hooks, ...(previous?.hooks ?? [])],
    links: [...now.links, ...(previous?.links ?? [])],
    chains: [...now.chains, ...(previous?.chains ?? [])],
  });
  const { devices: linked, modules, sysfs } = ownedSets(desired.objects);
  const devices = new Set<string>([...all.roots, ...all.hooks, ...all.links.map((l) => l.name), ...linked]);
  return { devices: [...devices].sort(byName), ...all, modules: [...modules].sort(byName), sysfs: [...sysfs].sort(byName) };
}

/** The state file of the last apply, or undefined when there is none. A malformed file is an error. */
export function readStateFile(dir: string): StateFile | undefined {
  const path = join(dir, STATE_FILE);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new Error(`cannot read ${path}: ${(e as Error).message}`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new Error(`${path} is not valid JSON: ${(e as Error).message}`);
  }
  const s = data as Partial<StateFile>;
  const o = s?.owned as Partial<Owned> | undefined;
  const arrays = o && [o.roots, o.hooks, o.links, o.chains].every(Array.isArray);
  if (s?.format !== 'qospolicy-state' || s.version !== 1 || !arrays) throw new Error(`${path} is not a qospolicy state file (version 1)`);
  // Names go to tc and ip: only what could be a device (or chain) name.
  const names = [...o.roots!, ...o.hooks!, ...o.links!.map((l) => l?.name), ...o.chains!.map((c) => c?.chain)];
  const bad = names.find((n) => typeof n !== 'string' || !/^[^\s\x00-\x1f\x7f/"'\\#]{1,29}$/.test(n));
  if (bad !== undefined) throw new Error(`${path} names ${JSON.stringify(bad)}, which cannot be a device or chain name: it was edited or is damaged`);
  const incomplete = s.incomplete && typeof s.incomplete.since === 'string' ? { incomplete: { since: s.incomplete.since, pid: Number(s.incomplete.pid) } } : {};
  return { format: 'qospolicy-state', version: 1, ...(s.policy ? { policy: s.policy } : {}), owned: normalize(o as Owned), ...incomplete };
}

/** A write to the state directory that failed: the file system's reason in words. */
export class StateWriteError extends Error {
  constructor(
    readonly path: string,
    readonly code: string | undefined,
  ) {
    const why: Record<string, string> = {
      ENOSPC: 'no space left on its file system',
      EDQUOT: 'the disk quota is exhausted',
      EROFS: 'its file system is read-only',
      EACCES: 'permission denied',
      EPERM: 'permission denied',
      ENOTDIR: 'a part of the path is not a directory',
      EEXIST: 'a part of the path is not a directory',
    };
    super(`cannot write ${path}: ${why[code ?? ''] ?? code ?? 'unknown error'}`);
  }
}

/**
 * Writes the state file atomically: in full to a temporary file, flushed to disk, then
 * renamed over the old one, so a crash or a full disk leaves the old file or the new one,
 * never a torn one (nor a temporary file behind). Throws StateWriteError.
 */
export function writeStateFile(dir: string, owned: Owned, policy?: StateFile['policy'], incomplete?: StateFile['incomplete']): void {
  const path = join(dir, STATE_FILE);
  const file: StateFile = { format: 'qospolicy-state', version: 1, ...(policy ? { policy } : {}), owned: normalize(owned), ...(incomplete ? { incomplete } : {}) };
  writeAtomic(path, JSON.stringify(file, null, 2) + '\n');
}

/** Writes a file of the state directory atomically (see writeStateFile). */
export function writeAtomic(path: string, text: string): void {
  const tmp = `${path}.tmp`;
  let fd: number | undefined;
  try {
    mkdirSync(join(path, '..'), { recursive: true });
    fd = openSync(tmp, 'w', 0o644);
    const data = Buffer.from(text);
    for (let at = 0; at < data.length; ) at += writeSync(fd, data, at);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(tmp, path);
  } catch (e) {
    if (fd !== undefined) closeSync(fd);
    try {
      rmSync(tmp, { force: true });
    } catch {
      // nothing was created (a read-only file system)
    }
    throw new StateWriteError(path, (e as NodeJS.ErrnoException).code);
  }
}

/** The root qdiscs qospolicy makes (htb and sch_tdma at 1:, taprio at 100:). */
const OWN_ROOTS = new Set(['htb 1:', 'tdma 1:', 'taprio 100:']);

export interface OwnershipCheck {
  /** The scope to plan in: what the state file claims that the live system bears out. */
  scope: Scope;
  /** A state-file claim the live system contradicts, left alone. */
  warnings: string[];
  /**
   * ifb/imq devices the policy takes that this state directory did not own and that carry
   * qdiscs or filters: someone else's, unless they already hold exactly what the policy
   * wants (a boot script ran). The caller decides with the plan.
   */
  taken: Array<{ dev: string; problem: string; /** Marked as another state directory's: a conflict even if unchanged. */ marked: boolean }>;
}

/**
 * Checks what this state directory claims and takes against what is live, before a plan
 * may change anything:
 * - an ifb/imq device the policy takes that this state directory did not own before, and
 *   that already carries qdiscs or filters, belongs to someone else (another policy with
 *   another state directory, another tool) if it is marked as another state directory's
 *   or its root qdisc is not the one the policy makes there;
 * - a root the state file names but the policy no longer shapes, holding a qdisc qospolicy
 *   never makes, or a device it names as its ifb/imq that is another kind of device, is not
 *   qospolicy's (an edited or misplaced state file): left out of the scope, with a warning,
 *   rather than removed.
 */
export function checkOwnership(desired: DesiredState, previous: Owned | undefined, scope: Scope, live: LiveItem[], dir: string, owners: Map<string, string> = new Map()): OwnershipCheck {
  const wanted = ownedOf(desired.objects);
  const warnings: string[] = [];
  const taken: OwnershipCheck['taken'] = [];
  const rootOf = new Map<string, string>();
  const onDevice = new Map<string, string[]>();
  const linkType = new Map<string, string | undefined>();
  for (const o of live) {
    const dev = deviceOf(o);
    const carried = kindOf(o).carries?.(o);
    if (dev !== undefined && carried) {
      if (carried.root) rootOf.set(dev, carried.text);
      // Pushed, not copied: a copy per object is quadratic (~300 ms at 10 000 circuits).
      const texts = onDevice.get(dev);
      if (texts) texts.push(carried.text);
      else onDevice.set(dev, [carried.text]);
    }
    // What state.json claims of devices: links are the one kind it names by type.
    if (o.kind === 'link') linkType.set(o.name, o.type === 'require' ? ((o as LiveLink).driver ?? 'physical') : o.type);
  }
  const before = new Set(previous?.links.map((l) => l.name) ?? []);
  const wantedRoot = new Map(
    desired.objects.flatMap((o) => {
      const carried = kindOf(o).carries?.(o);
      return carried?.root ? [[deviceOf(o)!, carried.text] as const] : [];
    }),
  );
  for (const l of wanted.links) {
    const there = onDevice.get(l.name);
    const owner = owners.get(l.name);
    if (owner !== undefined && owner !== dir)
      taken.push({
        dev: l.name,
        marked: true,
        problem: `${l.name} was set up by qospolicy with another state directory (${owner}), not this one (${dir}): two policies cannot share it. Give this policy other devices, or tear the other one down first`,
      });
    // Unmarked (a boot script's, an older qospolicy's): someone else's if its root is not the one the policy makes there.
    else if (owner === undefined && !before.has(l.name) && there?.length && rootOf.get(l.name) !== wantedRoot.get(l.name))
      taken.push({
        dev: l.name,
        marked: false,
        problem: `${l.name} already carries ${there.slice(0, 3).join(', ')}, which this state directory (${dir}) did not make: another policy with another state directory, or another tool, uses it. ` +
          `Give this policy other devices, or remove that configuration first (if it is this policy's own from a lost state directory: ip link del ${l.name})`,
      });
  }
  const drop = { roots: new Set<string>(), links: new Set<string>() };
  for (const dev of previous?.roots ?? []) {
    const root = rootOf.get(dev);
    if (wanted.roots.includes(dev) || root === undefined || OWN_ROOTS.has(root)) continue;
    drop.roots.add(dev);
    warnings.push(`state.json names the root of ${dev} as qospolicy's, but it holds ${root}, which qospolicy never makes: left alone`);
  }
  for (const l of previous?.links ?? []) {
    const type = linkType.get(l.name);
    if (wanted.links.some((w) => w.name === l.name) || !linkType.has(l.name) || type === l.type) continue;
    drop.links.add(l.name);
    warnings.push(`state.json names ${l.name} as qospolicy's ${l.type} device, but it is a ${type} device: left alone`);
  }
  if (!drop.roots.size && !drop.links.size) return { scope, warnings, taken };
  return {
    scope: {
      ...scope,
      devices: scope.devices.filter((d) => !drop.links.has(d)),
      roots: scope.roots.filter((d) => !drop.roots.has(d)),
      links: scope.links.filter((l) => !drop.links.has(l.name)),
    },
    warnings,
    taken,
  };
}
