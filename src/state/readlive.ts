import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { needTool, runCommand, ToolError } from './exec.js';
import { parseIptablesSave } from './iptables.js';
import { parseLinks } from './links.js';
import { readDevice, type ReadOptions } from './read.js';
import { tcDevices, type LiveItem, type Scope } from './scope.js';
import { parseModule, parseSysfs } from './sysfs.js';

export interface ReadLiveOptions extends ReadOptions {
  /** Root of sysfs (tests point it elsewhere); default /sys. */
  sysRoot?: string;
  /** Read the tc objects of these devices only (verifying an apply: the devices its steps touched); default all in scope. */
  tcOf?: ReadonlySet<string>;
  /** Of the devices read, those whose filters are not listed (only qdiscs and classes). */
  noFiltersOf?: ReadonlySet<string>;
}

/**
 * Reads everything in `scope` from the live system: link state (`ip -j -d link show`),
 * the tc objects of owned roots, hooks and devices (readDevice), qospolicy's mangle chains
 * (`iptables-save -t mangle` / `ip6tables-save -t mangle`, only when the scope has chains of
 * that family), loaded module parameters and the sysfs files it writes. Commands run as
 * argv, never through a shell. Which of them the policy owns, their kinds say (kinds/owned.ts).
 */
export async function readLive(scope: Scope, opts: ReadLiveOptions = {}): Promise<LiveItem[]> {
  const run = async (argv: string[]) => {
    const r = needTool(await runCommand(opts.netns ? ['ip', 'netns', 'exec', opts.netns, ...argv] : argv), opts.netns ? 'ip' : argv[0]!);
    if (r.exitCode !== 0) throw new Error(`${argv.join(' ')} failed (exit ${r.exitCode ?? r.signal}): ${r.stderr.trim()}`);
    return r.stdout;
  };
  const out: LiveItem[] = [];

  // The devices' tc objects are read while the link list is: a device that turns out not
  // to exist is skipped, and so is the failure of reading it.
  const devices = tcDevices(scope).filter((dev) => !opts.tcOf || opts.tcOf.has(dev)).map((dev) => {
    const read = readDevice(dev, { netns: opts.netns, noFilters: opts.noFiltersOf?.has(dev) ?? false });
    read.catch(() => {}); // handled below (awaited) or deliberately ignored
    return { dev, read };
  });
  const links = parseLinks(await run(['ip', '-j', '-d', 'link', 'show']));
  const existing = new Set(links.map((l) => l.name));
  out.push(...links.filter((l) => scope.devices.includes(l.name)));

  for (const { dev, read } of devices) {
    if (existing.has(dev)) out.push(...(await read));
    else await read.catch((e) => { if (e instanceof ToolError) throw e; });
  }

  for (const family of [4, 6] as const) {
    const chains = scope.chains.filter((c) => c.family === family);
    if (chains.length === 0) continue;
    const parsed = parseIptablesSave(await run([family === 4 ? 'iptables-save' : 'ip6tables-save', '-t', 'mangle']), family, chains);
    out.push(...parsed.chains, ...parsed.rules);
  }

  const sys = opts.sysRoot ?? '/sys';
  const under = (path: string) => (path.startsWith('/sys/') ? join(sys, path.slice('/sys/'.length)) : path);
  for (const module of scope.modules) {
    const dir = join(sys, 'module', module);
    if (!existsSync(dir)) continue;
    const files: Record<string, string> = {};
    const params = join(dir, 'parameters');
    if (existsSync(params)) {
      for (const name of readdirSync(params)) {
        try {
          files[name] = readFileSync(join(params, name), 'utf8');
        } catch {
          // write-only or unreadable parameter: not comparable
        }
      }
    }
    const m = parseModule(module, files);
    if (m) out.push(m);
  }

  for (const path of scope.sysfs) {
    const file = under(path);
    let content: string | undefined;
    try {
      content = readFileSync(file, 'utf8');
    } catch {
      content = undefined;
    }
    const s = parseSysfs(path, content, existsSync(dirname(file)));
    if (s) out.push(s);
  }

  return out;
}
