import { parseClasses } from './classes.js';
import { parseFilters, parseRootTable } from './filters.js';
import { unmodeledOf, type LiveClass, type LiveObject, type LiveQdisc } from './live.js';
import { parseQdiscs } from './qdiscs.js';
import { batchValues } from './json.js';
import { needTool, runCommand } from './exec.js';

export interface ReadOptions {
  /** Run tc inside this network namespace (`ip netns exec NS tc …`). */
  netns?: string;
  /** List qdiscs and classes only, no filters (verifying steps that change no filter). */
  noFilters?: boolean;
}

/**
 * The live tc state of one device as model objects: qdiscs, htb classes, and the
 * filters at every parent (the qdiscs, each htb class, the ingress/egress hooks).
 * Every tc call is an argv (no shell). One `tc -batch` lists the qdiscs, the classes and
 * the root qdisc's filters, a second one the other parents' filters (known only from the
 * first), so a tree of 1 000 classes costs two processes (a third when u32 hash tables
 * must be told apart). Each process is a fork of this one: at the size qospolicy reaches
 * with 1 000 classes, ~3 ms of its time each.
 * Order: root and ingress qdiscs, classes (parents first), leaf qdiscs, then filters by
 * parent in the same order (root qdisc, classes, leaf qdiscs, ingress, egress) and prio.
 */
export async function readDevice(dev: string, opts: ReadOptions = {}): Promise<LiveObject[]> {
  const tc = tcRunner(opts);
  const first = await tc.listDevice(dev, !opts.noFilters);

  // Filters can hang off any qdisc or class; tc has no "list all", so ask each parent that
  // can classify: the root qdisc, the inner classes (htb stops at a leaf class and never
  // consults its filters), the leaf qdiscs other than the plain FIFOs (which take no
  // filters), then the hooks. A thousand leaf classes are a thousand questions saved.
  const classes = sortClasses(parseClasses(dev, first.classes));
  if (opts.noFilters) {
    const qdiscs = parseQdiscs(dev, first.qdiscs);
    return [...qdiscs.filter(isTop), ...classes, ...qdiscs.filter((q) => !isTop(q))];
  }
  const inner = new Set(classes.map((c) => c.parent));
  const atClasses = classes.filter((c) => inner.has(c.classid)).map((c) => ({ key: c.classid, args: ['parent', c.classid] }));
  const qdiscs = parseQdiscs(dev, first.qdiscs);
  const top = qdiscs.filter(isTop);
  const leaves = qdiscs.filter((q) => !isTop(q));
  const atQdisc = (q: LiveQdisc) => ({ key: q.handle, args: ['parent', q.handle] });
  const root = top.find((q) => q.parent === 'root');
  const atOthers = [
    ...leaves.filter((q) => q.qdisc !== 'pfifo' && q.qdisc !== 'bfifo').map(atQdisc),
    ...top
      .filter((q) => q.parent === 'ingress')
      .flatMap((q) => [{ key: 'ingress', args: ['ingress'] }, ...(q.qdisc === 'clsact' ? [{ key: 'egress', args: ['egress'] }] : [])]),
  ];
  // The root qdisc's own listing is the tagged one, unless tc tagged it otherwise.
  const rootListing = root && first.filters !== undefined ? untag(first.filters, root.handle) : undefined;
  const atRoot = root ? [atQdisc(root)] : [];
  const asked = [...(root && rootListing === undefined ? atRoot : []), ...atClasses, ...atOthers];
  const answers = await tc.batchJson(asked.map((p) => ['filter', 'show', 'dev', dev, ...p.args]));
  const parents = [...atRoot, ...atClasses, ...atOthers];
  const listings = rootListing === undefined ? answers : [rootListing, ...answers];

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

const isTop = (q: LiveQdisc) => q.parent === 'root' || q.parent === 'ingress';

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
  /**
   * The three listings every device needs, from one `tc -j -d -force -batch -`: its qdiscs,
   * the filters of its root qdisc (tc lists them, tagged with their parent, when no parent
   * is given: by far the largest listing) and its classes. htb classes have no JSON in
   * iproute2 6.1 (`class show` prints text even under -j), so they come last, after two
   * one-line JSON values. Output of any other shape, or a failure, and the three run one
   * by one; the filters may then be missing (undefined), the others throw. Without
   * `filters`, the qdiscs and classes only.
   */
  listDevice(dev: string, filters: boolean): Promise<{ qdiscs: string; filters?: string; classes: string }>;
  /**
   * Runs `tc -j -d CMD` for each command and returns each one's stdout, through one
   * `tc -j -d -force -batch -` process (-d as in listDevice: every listing of a filter is
   * the same text). If that process reports a failure, or its output
   * does not split into one JSON value per command, the commands run one by one so no
   * output can be attributed to the wrong command. With allowFailure, a failed command
   * yields undefined instead of throwing.
   */
  batchJson(commands: string[][], opts?: { allowFailure?: boolean }): Promise<Array<string | undefined>>;
}

/**
 * Batch lines are split at blanks and newlines, and the kernel refuses such device names,
 * but names reach the reader from files too (state.json, a saved plan): one that could not
 * be a device is refused here, before it can become a batch command of its own.
 */
function oneWord(words: string[]): void {
  const bad = words.find((w) => w === '' || /[\s\x00-\x1f\x7f"'\\#]/.test(w));
  if (bad !== undefined) throw new Error(`${JSON.stringify(bad)} cannot be a device name or tc argument`);
}

function tcRunner(opts: ReadOptions): Tc {
  const exec = async (args: string[], input?: string) => needTool(await runCommand(opts.netns ? ['ip', 'netns', 'exec', opts.netns, 'tc', ...args] : ['tc', ...args], input), 'tc');
  const run = async (args: string[]) => {
    const r = await exec(args);
    if (r.exitCode !== 0) throw new Error(`tc ${args.join(' ')} failed (exit ${r.exitCode}): ${r.stderr.trim()}`);
    return r.stdout;
  };
  return {
    async listDevice(dev, withFilters) {
      oneWord([dev]);
      const r = await exec(['-j', '-d', '-force', '-batch', '-'], `qdisc show dev ${dev}\n${withFilters ? `filter show dev ${dev}\n` : ''}class show dev ${dev}\n`);
      if (r.exitCode === 0) {
        const [qdiscs, ...rest] = r.stdout.split('\n');
        const filters = withFilters ? rest.shift() : '[]';
        const json = (line = '') => line.startsWith('[') && line.endsWith(']');
        if (json(qdiscs) && json(filters) && rest.every((l) => l === '' || l.startsWith('class '))) return { qdiscs: qdiscs!, ...(withFilters ? { filters } : {}), classes: rest.join('\n') };
      }
      const filters = withFilters ? run(['-j', '-d', 'filter', 'show', 'dev', dev]).catch(() => undefined) : undefined;
      return { qdiscs: await run(['-j', '-d', 'qdisc', 'show', 'dev', dev]), classes: await run(['-d', 'class', 'show', 'dev', dev]), filters: await filters };
    },
    async batchJson(commands, { allowFailure = false } = {}) {
      if (commands.length === 0) return [];
      commands.forEach(oneWord);
      const r = await exec(['-j', '-d', '-force', '-batch', '-'], commands.map((c) => c.join(' ')).join('\n') + '\n');
      if (r.exitCode === 0) {
        const values = batchValues(r.stdout, commands.length);
        if (values) return values;
      }
      const out: Array<string | undefined> = [];
      for (const c of commands) {
        try {
          out.push(await run(['-j', '-d', ...c]));
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
