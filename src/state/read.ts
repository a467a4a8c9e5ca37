import { parseClasses } from './classes.js';
import { parseFilters, parseRootTable } from './filters.js';
import { unmodeledOf, type LiveClass, type LiveObject, type LiveQdisc } from './live.js';
import { parseQdiscs } from './qdiscs.js';
import { batchValues } from './json.js';
import { runCommand } from './exec.js';

export interface ReadOptions {
  /** Run tc inside this network namespace (`ip netns exec NS tc …`). */
  netns?: string;
}

/**
 * The live tc state of one device as model objects: qdiscs, htb classes, and the
 * filters at every parent (the qdiscs, each htb class, the ingress/egress hooks).
 * Every tc call is an argv (no shell); the root qdisc's filters are listed alongside the
 * qdiscs and classes, the other parents' through `tc -batch` (the inner classes' once the
 * classes are read, the leaf qdiscs' and hooks' once the qdiscs are), so a tree of
 * 1 000 classes costs a handful of processes.
 * Order: root and ingress qdiscs, classes (parents first), leaf qdiscs, then filters by
 * parent in the same order (root qdisc, classes, leaf qdiscs, ingress, egress) and prio.
 */
export async function readDevice(dev: string, opts: ReadOptions = {}): Promise<LiveObject[]> {
  const tc = tcRunner(opts);
  // Asked for at once: the qdiscs, the classes (the other parents' filters wait for them),
  // and the filters of the root qdisc (by far the largest listing: tc lists them, tagged
  // with their parent, when no parent is given).
  const qdiscText = tc.run(['-j', '-d', 'qdisc', 'show', 'dev', dev]);
  const classText = tc.run(['-d', 'class', 'show', 'dev', dev]);
  const rootText = tc.run(['-j', 'filter', 'show', 'dev', dev]);
  for (const p of [qdiscText, rootText]) p.catch(() => {}); // awaited below, or dropped; never unhandled

  // Filters can hang off any qdisc or class; tc has no "list all", so ask each parent that
  // can classify: the root qdisc, the inner classes (htb stops at a leaf class and never
  // consults its filters), the leaf qdiscs other than the plain FIFOs (which take no
  // filters), then the hooks. A thousand leaf classes are a thousand questions saved.
  // Each group is asked for as soon as it is known.
  const show = (ps: Array<{ args: string[] }>) => {
    const listed = tc.batchJson(ps.map((p) => ['filter', 'show', 'dev', dev, ...p.args]));
    listed.catch(() => {});
    return listed;
  };
  const classes = sortClasses(parseClasses(dev, await classText));
  const inner = new Set(classes.map((c) => c.parent));
  const atClasses = classes.filter((c) => inner.has(c.classid)).map((c) => ({ key: c.classid, args: ['parent', c.classid] }));
  const classListings = show(atClasses);

  const qdiscs = parseQdiscs(dev, await qdiscText);
  const top = qdiscs.filter((q) => q.parent === 'root' || q.parent === 'ingress');
  const leaves = qdiscs.filter((q) => q.parent !== 'root' && q.parent !== 'ingress');
  const atQdisc = (q: LiveQdisc) => ({ key: q.handle, args: ['parent', q.handle] });
  const root = top.find((q) => q.parent === 'root');
  const atRoot = root ? [atQdisc(root)] : [];
  const atOthers = [
    ...leaves.filter((q) => q.qdisc !== 'pfifo' && q.qdisc !== 'bfifo').map(atQdisc),
    ...top
      .filter((q) => q.parent === 'ingress')
      .flatMap((q) => [{ key: 'ingress', args: ['ingress'] }, ...(q.qdisc === 'clsact' ? [{ key: 'egress', args: ['egress'] }] : [])]),
  ];
  const otherListings = show(atOthers);
  const parents = [...atRoot, ...atClasses, ...atOthers];

  const listings: Array<string | undefined> = [];
  if (root) {
    const tagged = await rootText.then(
      (text) => text,
      () => undefined,
    );
    const own = tagged === undefined ? undefined : untag(tagged, root.handle);
    listings.push(own ?? (await show(atRoot))[0]);
  }
  listings.push(...(await classListings), ...(await otherListings));

  const ambiguous: Array<{ index: number; prio: number; protocol: string }> = [];
  const parsed = parents.map((p, index) => {
    const fs = parseFilters(dev, p.key, listings[index]!);
    for (const f of fs) {
      if (unmodeledOf(f).some(([what]) => what === 'u32-tables')) ambiguous.push({ index, prio: f.prio, protocol: f.protocol });
    }
    return fs;
  });
  // u32 keeps its hash tables per qdisc (clsact: for both hooks), and lists every table of a
  // prio under each parent that has a u32 filter at that prio. Ask each such filter for its
  // own root table (`handle fff:` is u32's alias for it) and read the listing again.
  const roots = new Map<number, Map<number, number>>();
  if (ambiguous.length > 0) {
    const gets = await tc.batchJson(
      ambiguous.map((a) => ['filter', 'get', 'dev', dev, ...parents[a.index]!.args, 'prio', String(a.prio), 'protocol', a.protocol, 'handle', 'fff:', 'u32']),
      { allowFailure: true },
    );
    ambiguous.forEach((a, i) => {
      const table = gets[i] === undefined ? undefined : parseRootTable(gets[i]!);
      if (table === undefined) return;
      let m = roots.get(a.index);
      if (!m) roots.set(a.index, (m = new Map()));
      m.set(a.prio, table);
    });
  }
  // Parents whose tables were ambiguous are read again knowing their own root tables.
  const filters = parents.flatMap((p, index) => (roots.has(index) ? parseFilters(dev, p.key, listings[index]!, { rootTables: roots.get(index) }) : parsed[index]!));

  return [...top, ...classes, ...leaves, ...filters];
}

/** Classes with every parent before its children (tc lists them in hash order). */
function sortClasses(classes: LiveClass[]): LiveClass[] {
  const byId = new Map(classes.map((c) => [c.classid, c]));
  const depth = (c: LiveClass): number => {
    let d = 0;
    for (let p = byId.get(c.parent); p && d < byId.size; p = byId.get(p.parent)) d++;
    return d;
  };
  return classes.map((c, i) => ({ c, i, d: depth(c) })).sort((a, b) => a.d - b.d || a.i - b.i).map((x) => x.c);
}

interface Tc {
  run(args: string[]): Promise<string>;
  /**
   * Runs `tc -j CMD` for each command and returns each one's stdout, through one
   * `tc -j -force -batch -` process. If that process reports a failure, or its output
   * does not split into one JSON value per command, the commands run one by one so no
   * output can be attributed to the wrong command. With allowFailure, a failed command
   * yields undefined instead of throwing.
   */
  batchJson(commands: string[][], opts?: { allowFailure?: boolean }): Promise<Array<string | undefined>>;
}

function tcRunner(opts: ReadOptions): Tc {
  const exec = (args: string[], input?: string) => runCommand(opts.netns ? ['ip', 'netns', 'exec', opts.netns, 'tc', ...args] : ['tc', ...args], input);
  const run = async (args: string[]) => {
    const r = await exec(args);
    if (r.exitCode !== 0) throw new Error(`tc ${args.join(' ')} failed (exit ${r.exitCode}): ${r.stderr.trim()}`);
    return r.stdout;
  };
  return {
    run,
    async batchJson(commands, { allowFailure = false } = {}) {
      if (commands.length === 0) return [];
      // Device names cannot hold whitespace, so joining argv with spaces is safe for tc -batch.
      const r = await exec(['-j', '-force', '-batch', '-'], commands.map((c) => c.join(' ')).join('\n') + '\n');
      if (r.exitCode === 0) {
        const values = batchValues(r.stdout, commands.length);
        if (values) return values;
      }
      const out: Array<string | undefined> = [];
      for (const c of commands) {
        try {
          out.push(await run(['-j', ...c]));
        } catch (e) {
          if (!allowFailure) throw e;
          out.push(undefined);
        }
      }
      return out;
    },
  };
}

/**
 * `tc -j filter show dev D` (no parent) as `… parent H` prints it: tc tags each entry with
 * its parent only where none was asked for, first thing in the object. Undefined where an
 * entry is tagged otherwise (then the root is asked for by its handle).
 */
function untag(text: string, handle: string): string | undefined {
  const untagged = text.split(`{"parent":"${handle}",`).join('{'); // (a flat string: replaceAll's is flattened later, at more cost)
  return untagged.includes('"parent":') ? undefined : untagged;
}
