// The command line: wires the stages together and turns results into exit codes.
// Exit status: 0 success, 1 any error (bad input, bad usage, failed command).
import { Command, CommanderError, Option } from 'commander';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import { parsePolicy } from '../syntax/index.js';
import { check, checkKernel, checkTxQueues, featuresToProbe, tdmaDevices, type Settings } from '../check/index.js';
import { compile } from '../backends/index.js';
import { renderSh } from '../render/sh.js';
import { renderBatch } from '../render/batch.js';
import { targetLabel } from '../render/commands.js';
import { diag, hasErrors, sortDiagnostics, type Diagnostic } from '../diagnostics/diagnostic.js';
import { formatCommandDiagnostic, formatDiagnostic, formatSummary, toJson } from '../diagnostics/format.js';
import { say } from './say.js';
import type { ClassNode, Policy } from '../syntax/ast.js';
import { createHash } from 'node:crypto';
import { probeFeatures, readTxQueues, ToolError } from '../state/index.js';
import { diffPolicies, removesAllShaping, renderPlan, stateDir, StateWriteError, type Plan, type PlanFormat } from '../plan/index.js';
import { planSystem, settle } from './system.js';
import type { DesiredState } from '../model/types.js';
import { registerApplyCommands } from './apply-commands.js';
import { fileIdentity, readPolicyFile } from './read-source.js';
import { printable } from '../diagnostics/text.js';
import { registerStatusCommand } from './status-command.js';
import { registerWatchCommand } from './watch-command.js';
import type { Loaded as WatchLoaded } from '../watch/index.js';

export const VERSION = '0.1.0';

interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
  /** Colour on stderr (diagnostics). */
  color: boolean;
  /** Colour on stdout (plan text); defaults to `color`. */
  outColor?: boolean;
  /** stdout is a terminal: a person is reading (check then says it passed). */
  outIsTerminal?: boolean;
}

const defaultIo = (): Io => ({
  out: (s) => process.stdout.write(s),
  err: (s) => process.stderr.write(s),
  color: Boolean(process.stderr.isTTY) && !process.env.NO_COLOR,
  outColor: Boolean(process.stdout.isTTY) && !process.env.NO_COLOR,
  outIsTerminal: Boolean(process.stdout.isTTY),
});

interface Loaded {
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
    const policy: Policy = { files: [file], target: undefined, interfaces: [], shared: [], tdma: [], unresolved: [] };
    return { policy, settings: { ingress: 'ifb', tdma: 'taprio' }, sources, diagnostics: [diag('QP4001', `cannot read ${file}: ${reason}`)] };
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

function report(loaded: Loaded, io: Io, json: boolean): void {
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
const MAX_SHOWN = 100;

/** `site.pol: OK, 0 errors, 1 warning (2 interfaces, 3 trees, 14 classes)`. */
function successLine(file: string, loaded: Loaded): string {
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

/** `--target imq,sch_tdma` → settings overrides. */
function parseTargets(value: string | undefined): Partial<Settings> {
  const out: Partial<Settings> = {};
  for (const t of (value ?? '').split(',').filter(Boolean)) {
    if (t === 'ifb' || t === 'imq') out.ingress = t;
    else if (t === 'taprio') out.tdma = 'taprio';
    else if (t === 'sch_tdma' || t === 'module') out.tdma = 'module';
    else throw new CommanderError(1, 'qospolicy.target', `unknown target '${t}' (expected ifb, imq, taprio or sch_tdma)`);
  }
  return out;
}

export async function main(argv: string[], io: Io = defaultIo()): Promise<number> {
  let code = 0;
  const program = new Command('qospolicy')
    .description('Compile Linux traffic-control policy into tc, iptables and module settings.')
    .version(VERSION)
    .exitOverride()
    .configureOutput({ writeOut: io.out, writeErr: io.err })
    .showHelpAfterError();

  program
    .command('check')
    .description('parse and validate a policy; exit 1 on any error')
    .argument('<file>', 'policy file')
    .option('--json', 'print diagnostics as JSON objects on stdout')
    .option('--target <list>', 'override target: ifb|imq, taprio|sch_tdma (comma-separated)')
    .option('--kernel', 'also check that the running kernel has every qdisc, classifier, action and module the policy needs')
    .action(async (file: string, opts: { json?: boolean; target?: string; kernel?: boolean }) => {
      let loaded = load(file, parseTargets(opts.target));
      if (opts.kernel) loaded = await withKernel(loaded, io.err);
      report(loaded, io, Boolean(opts.json));
      code = hasErrors(loaded.diagnostics) ? 1 : 0;
      if (code === 0 && !opts.json && io.outIsTerminal) io.out(successLine(file, loaded));
    });

  program
    .command('compile')
    .description('compile a policy to a boot script, batch files or the desired state as JSON')
    .argument('<file>', 'policy file')
    .option('--target <list>', 'override target: ifb|imq, taprio|sch_tdma (comma-separated)')
    .addOption(new Option('--format <format>', 'output format').choices(['sh', 'batch', 'json']).default('sh'))
    .option('-o, --output <path>', 'write here (batch: a path prefix for NAME.tc, NAME.iptables, …)')
    .option('--json', 'print diagnostics as JSON objects')
    .action((file: string, opts: { target?: string; format: 'sh' | 'batch' | 'json'; output?: string; json?: boolean }) => {
      const loaded = load(file, parseTargets(opts.target));
      // Warnings go to stderr; with --json they would mix with the output, so only errors stop us.
      // With --json they are one array, a file that cannot be written (QP4003) in it.
      const toStderr = { ...io, out: io.err };
      if (!opts.json || hasErrors(loaded.diagnostics)) report(loaded, toStderr, Boolean(opts.json));
      if (hasErrors(loaded.diagnostics)) {
        code = 1;
        return;
      }
      const cannotWrite = (path: string, e: unknown) => {
        const d = diag('QP4003', `cannot write ${printable(path)}: ${printable((e as Error).message)}`);
        if (opts.json) loaded.diagnostics.push(d);
        else say(io, d.code, d.message);
        code = 1;
      };
      const state = compile(loaded.policy, loaded.settings);
      let outputs: Array<[string | undefined, string]>;
      if (opts.format === 'batch') {
        const files = Object.entries(renderBatch(state, `qospolicy ${VERSION} from ${file} (${targetLabel(state)})`));
        outputs = opts.output
          ? files.map(([suffix, text]) => [`${opts.output}.${suffix}`, text])
          : [[undefined, files.map(([suffix, text]) => `==> ${suffix} <==\n${text}`).join('\n')]];
      } else {
        const text =
          opts.format === 'json'
            ? JSON.stringify(state, null, 2) + '\n'
            : renderSh(state, { source: file, version: VERSION });
        outputs = [[opts.output, text]];
      }
      for (const [path, text] of outputs) {
        if (path === undefined) {
          io.out(text);
          continue;
        }
        try {
          writeFileSync(path, text, { mode: opts.format === 'sh' ? 0o755 : 0o644 });
        } catch (e) {
          cannotWrite(path, e);
          break;
        }
      }
      if (opts.json) report(loaded, toStderr, true);
    });

  type Compiled = { state: DesiredState; ref: { file: string; sha256: string } };
  /** Load, check and compile one policy; diagnostics to stderr. Undefined on an error. */
  const compileFile = (file: string, target?: string): Compiled | undefined => compileLoaded(file, load(file, parseTargets(target)));
  /** compileFile for this system: checked against the running kernel as well (plan, apply). */
  const compileLive = async (file: string, target?: string): Promise<Compiled | undefined> => compileLoaded(file, await withKernel(load(file, parseTargets(target)), io.err));
  const compileLoaded = (file: string, loaded: Loaded): Compiled | undefined => {
    report(loaded, { ...io, out: io.err }, false);
    if (hasErrors(loaded.diagnostics)) return undefined;
    const sha256 = createHash('sha256').update(loaded.sources.get(file) ?? '').digest('hex');
    return { state: compile(loaded.policy, loaded.settings), ref: { file, sha256 } };
  };
  interface PlanOpts {
    target?: string;
    format: PlanFormat;
    detailedExitcode?: boolean;
    output?: string;
    steps?: boolean;
  }
  /** Print a plan; its errors go to stderr too. Exit: 1 errors, 2 changes (--detailed-exitcode), else 0. */
  const emitPlan = (plan: Plan, opts: PlanOpts): number => {
    io.out(renderPlan(plan, opts.format, { color: io.outColor ?? io.color, steps: opts.steps }));
    for (const e of plan.errors) say(io, 'QP4005', e);
    if (plan.errors.length) return 1;
    const destroys = removesAllShaping(plan);
    if (destroys) io.err(`warning: ${destroys}; apply refuses this without --allow-destroy\n`);
    if (opts.output) {
      try {
        writeFileSync(opts.output, JSON.stringify(plan, null, 2) + '\n');
      } catch (e) {
        say(io, 'QP4003', `cannot write ${printable(opts.output)}: ${printable((e as Error).message)}`);
        return 1;
      }
    }
    return opts.detailedExitcode && plan.changes.length > 0 ? 2 : 0;
  };
  const formatOption = () => new Option('--format <format>', 'output format').choices(['text', 'markdown', 'json']).default('text');

  program
    .command('plan')
    .description('read the live system and show what apply would change (exit 2 with --detailed-exitcode when changes are pending)')
    .argument('<file>', 'policy file')
    .option('--target <list>', 'override target: ifb|imq, taprio|sch_tdma (comma-separated)')
    .addOption(formatOption())
    .option('--detailed-exitcode', 'exit 0 when nothing would change, 2 when something would, 1 on error')
    .option('-o, --output <path>', 'save the plan as JSON, for apply')
    .option('--steps', 'text: list every command in execution order')
    .action(async (file: string, opts: PlanOpts) => {
      const compiled = await compileLive(file, opts.target);
      if (!compiled) {
        code = 1;
        return;
      }
      let plan: Plan;
      try {
        const dir = stateDir();
        await settle(dir, io);
        const sys = await planSystem(compiled.state, dir, io, compiled.ref);
        plan = sys.plan;
        // Shown, and an error: apply would refuse it.
        for (const c of sys.conflicts) say(io, 'QP4022', c);
        if (sys.conflicts.length) {
          io.out(renderPlan(plan, opts.format, { color: io.outColor ?? io.color, steps: opts.steps }));
          code = 1;
          return;
        }
      } catch (e) {
        const c = e instanceof ToolError ? 'QP4026' : e instanceof StateWriteError ? 'QP4020' : 'QP4004';
        say(io, c, (e as Error).message);
        code = 1;
        return;
      }
      code = emitPlan(plan, opts);
    });

  program
    .command('diff')
    .description('show the change from one policy version to another, without touching any system (for review)')
    .argument('<old>', 'the policy as it is')
    .argument('<new>', 'the policy as it will be')
    .option('--target <list>', 'override target of both: ifb|imq, taprio|sch_tdma (comma-separated)')
    .addOption(formatOption())
    .option('--detailed-exitcode', 'exit 0 when both compile to the same objects, 2 when they differ, 1 on error')
    .option('--steps', 'text: list every command in execution order')
    .action((oldFile: string, newFile: string, opts: PlanOpts) => {
      const before = compileFile(oldFile, opts.target);
      const after = compileFile(newFile, opts.target);
      if (!before || !after) {
        code = 1;
        return;
      }
      code = emitPlan(diffPolicies(before.state, after.state, { base: before.ref, policy: after.ref }), opts);
    });

  registerApplyCommands(program, { io, compileFile, compileLive, setCode: (c) => void (code = c) });
  registerStatusCommand(program, { io, compileFile, setCode: (c) => void (code = c) });
  /** For watch (as compileLive, checked against this kernel): errors as plain text for its log, read again on SIGHUP. */
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
    if (!state.objects.some((o) => o.kind === 'qdisc'))
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
  registerWatchCommand(program, { io, loadPolicy, setCode: (c) => void (code = c) });

  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version') return 0;
      if (e.code === 'qospolicy.target') say(io, 'QP4002', e.message);
      return e.exitCode === 0 ? 0 : 1;
    }
    // A bug, not bad input: say so plainly, without a stack trace.
    io.err(`qospolicy: internal error: ${printable((e as Error).message)}\nPlease report this with the policy that caused it.\n`);
    return 1;
  }
  return code;
}
