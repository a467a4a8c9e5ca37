// What the commands share: reading, checking and compiling a policy, and printing its
// diagnostics. The commands themselves are in *-commands.ts; main.ts wires them.
import { CommanderError } from 'commander';
import { createHash } from 'node:crypto';
import { dirname, isAbsolute, join } from 'node:path';
import { parsePolicy } from '../syntax/index.js';
import { check, checkKernel, checkTxQueues, featuresToProbe, tdmaDevices, type Settings } from '../check/index.js';
import { compile } from '../backends/index.js';
import { shapesAny } from '../kinds/index.js';
import { diag, hasErrors, sortDiagnostics, type Diagnostic } from '../diagnostics/diagnostic.js';
import { formatCommandDiagnostic, formatDiagnostic, formatSummary, toJson } from '../diagnostics/format.js';
import type { ClassNode, Policy } from '../syntax/ast.js';
import { probeFeatures, readTxQueues } from '../state/index.js';
import type { DesiredState } from '../model/types.js';
import { fileIdentity, readPolicyFile } from './read-source.js';
import { printable } from '../diagnostics/text.js';
import type { Loaded as WatchLoaded } from '../watch/index.js';

export const VERSION = '0.1.0';

export interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
  /** Colour on stderr (diagnostics). */
  color: boolean;
  /** Colour on stdout (plan text); defaults to `color`. */
  outColor?: boolean;
  /** stdout is a terminal: a person is reading (check then says it passed). */
  outIsTerminal?: boolean;
}

export const defaultIo = (): Io => ({
  out: (s) => process.stdout.write(s),
  err: (s) => process.stderr.write(s),
  color: Boolean(process.stderr.isTTY) && !process.env.NO_COLOR,
  outColor: Boolean(process.stdout.isTTY) && !process.env.NO_COLOR,
  outIsTerminal: Boolean(process.stdout.isTTY),
});

export interface Loaded {
  policy: Policy;
  settings: Settings;
  diagnostics: Diagnostic[];
  sources: Map<string, string>;
}

/** Read, parse and check one policy file; every diagnostic, never a throw for bad input. */
export function load(file: string, override: Partial<Settings> = {}): Loaded {
  const sources = new Map<string, string>();
  let text: string;
  try {
    text = readPolicyFile(file);
  } catch (e) {
    const reason = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message;
    return unloaded(file, diag('QP4001', `cannot read ${file}: ${reason}`));
  }
  const front = parsePolicy(file, text, {
    readFile: (path) => readPolicyFile(path),
    resolve: (from, path) => (isAbsolute(path) ? path : join(dirname(from), path)),
    identity: fileIdentity,
  });
  for (const [name, source] of front.sources) sources.set(name, source);
  const checked = check(front.policy, override);
  return { policy: front.policy, settings: checked.settings, sources, diagnostics: sortDiagnostics([...front.diagnostics, ...checked.diagnostics]) };
}

/**
 * The loaded policy checked against the running kernel too: what it needs is probed
 * (src/state/features.ts) and each feature the kernel lacks is a QP2022 error at the
 * construct that needs it; the probed set goes into the settings the compiler gets.
 * Where the kernel cannot be probed (not root), `note` says so and nothing is checked.
 */
export async function withKernel(loaded: Loaded, note: (s: string) => void): Promise<Loaded> {
  if (hasErrors(loaded.diagnostics)) return loaded;
  let kernel: Set<string>;
  try {
    kernel = await probeFeatures(featuresToProbe(loaded.policy, loaded.settings));
  } catch (e) {
    note(`note: the kernel's features were not checked: ${(e as Error).message}\n`);
    return loaded;
  }
  const settings = { ...loaded.settings, kernel };
  const queues = await readTxQueues(tdmaDevices(loaded.policy, settings));
  const found = [...checkKernel(loaded.policy, settings), ...checkTxQueues(loaded.policy, settings, queues)];
  return { ...loaded, settings, diagnostics: sortDiagnostics([...loaded.diagnostics, ...found]) };
}

export function report(loaded: Loaded, io: Io, json: boolean): void {
  if (json) {
    io.out(toJson(loaded.diagnostics) + '\n');
    return;
  }
  // Past the cap, errors before warnings, each in file order.
  const all = loaded.diagnostics;
  const shown = all.length <= MAX_SHOWN ? all : [...all.filter((d) => d.severity === 'error'), ...all.filter((d) => d.severity !== 'error')].slice(0, MAX_SHOWN);
  if (shown !== all) shown.sort((a, b) => all.indexOf(a) - all.indexOf(b));
  for (const d of shown) io.err(formatDiagnostic(d, { color: io.color, sources: loaded.sources }) + '\n\n');
  const more = loaded.diagnostics.length - shown.length;
  if (more > 0) io.err(`… and ${more} more not shown (--json lists them all)\n`);
  if (loaded.diagnostics.length) io.err(formatSummary(loaded.diagnostics) + '\n');
}

/** Diagnostics printed for people; past these, a count (a broken file is not read out in full). */
export const MAX_SHOWN = 100;

/** `site.pol: OK, 0 errors, 1 warning (2 interfaces, 3 trees, 14 classes)`. */
export function successLine(file: string, loaded: Loaded): string {
  let classes = 0;
  const count = (cs: ClassNode[]): void => {
    for (const c of cs) {
      classes++;
      count(c.children);
    }
  };
  const trees = [...loaded.policy.interfaces.flatMap((i) => [i.ingress, i.egress]), ...loaded.policy.shared.map((s) => s.tree)].filter((t) => t !== undefined);
  for (const t of trees) count(t.classes);
  const n = (k: number, s: string) => `${k} ${s}${k === 1 ? '' : 's'}`;
  const parts = [n(loaded.policy.interfaces.length, 'interface'), n(trees.length, 'tree'), `${classes} class${classes === 1 ? '' : 'es'}`];
  if (loaded.policy.tdma.length) parts.push(n(loaded.policy.tdma.length, 'tdma block'));
  return `${printable(file)}: OK, ${formatSummary(loaded.diagnostics)} (${parts.join(', ')})\n`;
}

/** A policy that was not read: only the diagnostic that says why. */
function unloaded(file: string, d: Diagnostic): Loaded {
  const policy: Policy = { files: [file], target: undefined, interfaces: [], shared: [], tdma: [], unresolved: [] };
  return { policy, settings: { ingress: 'ifb', tdma: 'taprio' }, sources: new Map(), diagnostics: [d] };
}

/**
 * load() with `--target` as typed: a bad target is the policy's QP4002 diagnostic, so check and
 * compile report it as they report the rest (`--json` too), not as a usage error.
 */
export function loadTargeted(file: string, target: string | undefined): Loaded {
  try {
    return load(file, parseTargets(target));
  } catch (e) {
    if (e instanceof CommanderError && e.code === 'qospolicy.target') return unloaded(file, diag('QP4002', e.message));
    throw e;
  }
}

/** `--target imq,sch_tdma` → settings overrides. */
export function parseTargets(value: string | undefined): Partial<Settings> {
  const out: Partial<Settings> = {};
  for (const t of (value ?? '').split(',').filter(Boolean)) {
    if (t === 'ifb' || t === 'imq') out.ingress = t;
    else if (t === 'taprio') out.tdma = 'taprio';
    else if (t === 'sch_tdma' || t === 'module') out.tdma = 'module';
    else throw new CommanderError(1, 'qospolicy.target', `unknown target '${t}' (expected ifb, imq, taprio or sch_tdma)`);
  }
  return out;
}


export type Compiled = { state: DesiredState; ref: { file: string; sha256: string } };

/** What every command gets: its output, the policy compilers, and how to set the exit code. */
export interface CliContext {
  io: Io;
  /** Load, check and compile one policy; diagnostics to stderr. Undefined on an error. */
  compileFile: (file: string, target?: string) => Compiled | undefined;
  /** compileFile for this system: checked against the running kernel as well (plan, apply). */
  compileLive: (file: string, target?: string) => Promise<Compiled | undefined>;
  /** For watch (as compileLive): errors as plain text for its log, read again on SIGHUP. */
  loadPolicy: (file: string, target?: string) => Promise<WatchLoaded>;
  setCode: (code: number) => void;
}

export function cliContext(io: Io, setCode: (code: number) => void): CliContext {
  const compileLoaded = (file: string, loaded: Loaded): Compiled | undefined => {
    report(loaded, { ...io, out: io.err }, false);
    if (hasErrors(loaded.diagnostics)) return undefined;
    const sha256 = createHash('sha256').update(loaded.sources.get(file) ?? '').digest('hex');
    return { state: compile(loaded.policy, loaded.settings), ref: { file, sha256 } };
  };
  const loadPolicy = async (file: string, target?: string): Promise<WatchLoaded> => {
    const loaded = await withKernel(load(file, parseTargets(target)), io.err);
    if (hasErrors(loaded.diagnostics)) {
      const errors = loaded.diagnostics.filter((d) => d.severity === 'error').slice(0, MAX_SHOWN);
      return { ok: false, diagnostics: errors.map((d) => formatDiagnostic(d, { color: false, sources: loaded.sources })).join('\n') };
    }
    const sha256 = createHash('sha256').update(loaded.sources.get(file) ?? '').digest('hex');
    const state = compile(loaded.policy, loaded.settings);
    // As apply without --allow-destroy: an empty or truncated file (a SIGHUP mid-write) would
    // remove every tree the watcher keeps. Refused at start, and at SIGHUP the old one stays.
    if (!shapesAny(state.objects))
      return {
        ok: false,
        diagnostics: formatCommandDiagnostic(
          diag('QP4011', `${printable(file)} declares no interface tree, shared group or TDMA slot (an empty or truncated file?)`, undefined, {
            hint: "watch keeps no policy that shapes nothing; `qospolicy teardown` removes a policy's shaping",
          }),
          { color: false },
        ),
      };
    return { ok: true, policy: { state, ref: { file, sha256 } } };
  };
  return {
    io,
    compileFile: (file, target) => compileLoaded(file, load(file, parseTargets(target))),
    compileLive: async (file, target) => compileLoaded(file, await withKernel(load(file, parseTargets(target)), io.err)),
    loadPolicy,
    setCode,
  };
}
