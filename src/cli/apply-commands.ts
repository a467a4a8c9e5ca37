// apply, confirm, teardown: the commands that change the system. Wiring only; the
// machinery is in src/apply (lock, drift check, snapshot, verify, restore).
import { say } from './say.js';
import { readOwned } from '../kinds/owned.js';
import { Command } from 'commander';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline/promises';
import type { DesiredState } from '../model/types.js';
import { markOwner, ToolError, type LiveItem } from '../state/index.js';
import { ownedOf, removesAllShaping, renderPlan, stateDir, STATE_FILE, StateWriteError, writeStateFile, type Plan, type StateFile } from '../plan/index.js';
import {
  acquireLock,
  applyPlan,
  confirm,
  DriftError,
  holderAlive,
  LockedError,
  readAhead,
  readLock,
  readSavedPlan,
  restoreSnapshot,
  SavedPlanError,
  startConfirmWindow,
  watchConfirm,
  type Progress,
} from '../apply/index.js';
import { planSystem, settle, warnTo } from './system.js';

export interface ApplyContext {
  io: { out: (s: string) => void; err: (s: string) => void; color: boolean; outColor?: boolean };
  compileFile: (file: string, target?: string) => { state: DesiredState; ref: { file: string; sha256: string } } | undefined;
  /** compileFile, checked against the running kernel's features as well. */
  compileLive: (file: string, target?: string) => Promise<{ state: DesiredState; ref: { file: string; sha256: string } } | undefined>;
  setCode: (code: number) => void;
}

interface ApplyOpts {
  target?: string;
  yes?: boolean;
  confirm?: string;
  allowDestroy?: boolean;
}

/** On a terminal: "applying 12/40"; elsewhere quiet. */
function progressBar(tty: boolean): Progress | undefined {
  if (!tty) return undefined;
  return (done, total) => process.stderr.write(`\r\x1b[Kapplying ${done}/${total}${done === total ? '\n' : ''}`);
}

async function ask(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(question)).trim());
  } finally {
    rl.close();
  }
}

interface Planned {
  plan: Plan;
  live: LiveItem[];
  previous?: StateFile;
  /** A plan saved with `plan -o`: reviewed when it was made, so not asked about. */
  saved: boolean;
}

/** Lock, plan (or load the plan), show, ask, apply; the lock is held throughout. The exit code. */
async function run(ctx: ApplyContext, source: string, opts: ApplyOpts, mode: 'apply' | 'teardown'): Promise<number> {
  const { io } = ctx;
  const dir = stateDir();
  const seconds = opts.confirm === undefined ? undefined : Number(opts.confirm);
  if (seconds !== undefined && !(Number.isInteger(seconds) && seconds > 0)) {
    say(io, 'QP4002', `--confirm takes a whole number of seconds, not '${opts.confirm}'`);
    return 1;
  }
  const release = await lock(io, dir, `${mode} ${source}`);
  if (typeof release === 'number') return release;
  let handedOver = false;
  try {
    const planned = await planFor(ctx, source, opts, mode, dir);
    if (typeof planned === 'number') return planned;
    const { code, snapshot } = await carryOut(ctx, planned, opts, mode, dir);
    if (snapshot === undefined || seconds === undefined) return code;
    const kept = await keepUntilConfirmed(io, planned, snapshot, dir, seconds);
    handedOver = kept === 0;
    return kept;
  } catch (e) {
    if (e instanceof DriftError) say(io, 'QP4005', e.message);
    else if (e instanceof StateWriteError) say(io, 'QP4020', e.message);
    else say(io, e instanceof ToolError ? 'QP4026' : 'QP4004', (e as Error).message);
    return 1;
  } finally {
    if (!handedOver) release();
  }
}

/** Settles what an earlier run left, then takes the apply lock: its release, or the exit code. */
async function lock(io: ApplyContext['io'], dir: string, command: string): Promise<(() => void) | number> {
  try {
    await settle(dir, io);
    return acquireLock(dir, command, process.pid, (h) =>
      void say(io, 'QP4023', `took over the lock of pid ${h.pid} (${h.command}, since ${h.since}): that process is gone; what it left is in this plan`),
    );
  } catch (e) {
    if (e instanceof LockedError) {
      say(io, 'QP4006', `${e.message}; nothing was changed`, { hint: e.hint });
      return 1;
    }
    if (e instanceof StateWriteError) {
      say(io, 'QP4020', `${e.message}; nothing was changed`);
      return 1;
    }
    throw e;
  }
}

/** The plan to carry out: a saved plan made again from its desired state, or the policy's; or the exit code. */
async function planFor(ctx: ApplyContext, source: string, opts: ApplyOpts, mode: 'apply' | 'teardown', dir: string): Promise<Planned | number> {
  const { io } = ctx;
  const conflict = (problems: string[]) => {
    for (const p of problems) say(io, 'QP4022', `${p}; nothing was changed`);
    return 1;
  };
  try {
    const saved = mode === 'apply' ? readSavedPlan(source) : undefined;
    if (saved) {
      // Never the saved commands: the plan made again from its desired state must be it.
      const sys = await planSystem(saved.desired, dir, warnTo(io), { saved, settle: false });
      return sys.conflicts.length ? conflict(sys.conflicts) : { plan: sys.plan, live: sys.live, ...(sys.previous ? { previous: sys.previous } : {}), saved: true };
    }
  } catch (e) {
    if (!(e instanceof SavedPlanError)) throw e;
    say(io, 'QP4021', e.message, { hint: e.hint });
    return 1;
  }
  // The live system is read while the policy compiles (planSystem uses it if the scope is the same).
  const ahead = readAhead(dir);
  // Teardown removes: what the kernel could run does not matter to it.
  const compiled = mode === 'apply' ? await ctx.compileLive(source, opts.target) : ctx.compileFile(source, opts.target);
  if (!compiled) return 1;
  // Teardown: the desired state is nothing at all, in the policy's scope.
  const desired: DesiredState = mode === 'teardown' ? { objects: [], notes: [] } : compiled.state;
  // Settled before the lock was taken (settling takes it).
  const sys = await planSystem(desired, dir, warnTo(io), { policy: compiled.ref, own: compiled.state, mode: mode === 'teardown' ? 'teardown' : 'plan', settle: false, ...(ahead ? { ahead } : {}) });
  if (sys.conflicts.length) return conflict(sys.conflicts);
  return { plan: sys.plan, live: sys.live, ...(sys.previous ? { previous: sys.previous } : {}), saved: false };
}

/**
 * Shows the plan, refuses what must not run, asks, applies and records what is owned. The
 * exit code, and when changes were made, what the system held before.
 */
async function carryOut(ctx: ApplyContext, planned: Planned, opts: ApplyOpts, mode: 'apply' | 'teardown', dir: string): Promise<{ code: number; snapshot?: LiveItem[] }> {
  const code = await refusal(ctx, planned, opts, mode, dir);
  if (code !== undefined) return { code };
  const { plan, live } = planned;
  const tty = Boolean(process.stdin.isTTY && process.stderr.isTTY);
  const result = await applyPlan(plan, { stateDir: dir, progress: progressBar(tty), live });
  const { io } = ctx;
  if (!result.ok) {
    say(io, result.stateDir ? 'QP4020' : 'QP4007', result.reason, result.hint ? { hint: result.hint } : {});
    if (result.unchanged) return { code: 1 };
    if (result.restored) io.err('The system was restored to its state before the apply.\n');
    else say(io, 'QP4008', result.problem);
    return { code: 1 };
  }
  // The devices say which state directory set them up (imq devices stay, unmarked, when torn down).
  if (mode === 'teardown') {
    await markOwner(plan.scope.links.filter((l) => l.type === 'imq').map((l) => l.name), undefined);
    rmSync(join(dir, STATE_FILE), { force: true });
  } else await markOwner(ownedOf(plan.desired.objects).links.map((l) => l.name), dir);
  const s = plan.summary;
  io.out(mode === 'teardown' ? `Teardown complete: ${s.delete} removed.\n` : `Apply complete. ${s.create} to add, ${s.update} to change, ${s.replace} to replace, ${s.delete} to remove.\n`);
  return { code: 0, snapshot: result.snapshot };
}

/** Shows the plan; the exit code when it must not (or need not) run: errors, a destroy, no changes, nobody agreeing. */
async function refusal(ctx: ApplyContext, { plan, previous, saved }: Planned, opts: ApplyOpts, mode: 'apply' | 'teardown', dir: string): Promise<number | undefined> {
  const { io } = ctx;
  const tty = Boolean(process.stdin.isTTY && process.stderr.isTTY);
  io.out(renderPlan(plan, 'text', { color: io.outColor ?? io.color }));
  if (plan.errors.length) {
    for (const e of plan.errors) say(io, 'QP4005', e);
    return 1;
  }
  const destroys = removesAllShaping(plan);
  if (destroys && !opts.allowDestroy) {
    say(io, 'QP4011', destroys, { hint: "to remove this policy's shaping run `qospolicy teardown`; to apply it anyway pass --allow-destroy" });
    io.err('Nothing was changed.\n');
    return 1;
  }
  if (plan.changes.length === 0) {
    // Nothing to change (e.g. the boot script already ran): still record what is owned.
    if (mode === 'apply') {
      writeStateFile(dir, ownedOf(plan.desired.objects), plan.policy);
      await markOwner(ownedOf(plan.desired.objects).links.map((l) => l.name), dir);
    } else if (previous?.incomplete) rmSync(join(dir, STATE_FILE), { force: true });
    return 0;
  }
  // A saved plan was reviewed when it was made; anything else is shown and asked about,
  // and where nobody can answer (a boot script, cron) it needs --yes.
  if (!opts.yes && !saved && !tty) {
    say(io, 'QP4010', `not on a terminal, so nobody can confirm this ${mode}: pass --yes${mode === 'apply' ? ', or apply a plan saved with `qospolicy plan -o plan.json`' : ''}`);
    io.err('Nothing was changed.\n');
    return 1;
  }
  if (!opts.yes && tty && !(await ask(`${mode === 'teardown' ? 'Remove' : 'Apply'} these changes? [y/N] `))) {
    io.err('Nothing was changed.\n');
    return 1;
  }
  return undefined;
}

/** `--confirm`: hands the lock to the watcher that reverts unless confirmed in time. The exit code. */
async function keepUntilConfirmed(io: ApplyContext['io'], { plan, previous }: Planned, snapshot: LiveItem[], dir: string, seconds: number): Promise<number> {
  try {
    startConfirmWindow(dir, seconds, plan.scope, snapshot, previous, plan.policy?.file);
  } catch (e) {
    if (!(e instanceof StateWriteError)) throw e;
    // Without its deadline on disk nothing could revert it: undo it now.
    const back = await restoreSnapshot(snapshot, plan.scope, (scope) => readOwned(scope));
    if (previous) writeStateFile(dir, previous.owned, previous.policy);
    say(io, 'QP4020', `${e.message}, so the confirmation deadline cannot be kept: the change was undone`);
    if (!back.restored) say(io, 'QP4008', back.problem);
    return 1;
  }
  io.out(`Run \`qospolicy confirm\` within ${seconds} s to keep it; otherwise it is reverted.\n`);
  return 0;
}

/** `qospolicy confirm`: the exit code. */
async function confirmCommand(io: ApplyContext['io']): Promise<number> {
  const dir = stateDir();
  const result = confirm(dir);
  if (result.t === 'late') {
    say(io, 'QP4025', `too late: the deadline was ${result.deadline}; the change is reverted, not kept`);
    // The watcher reverts; if it is gone, this does.
    for (let i = 0; i < 300 && readLock(dir) && holderAlive(readLock(dir)!); i++) await new Promise((r) => setTimeout(r, 100));
  }
  try {
    await settle(dir, io);
  } catch (e) {
    say(io, 'QP4020', (e as Error).message);
  }
  if (result.t !== 'confirmed') {
    if (result.t === 'none') say(io, 'QP4009', 'nothing is waiting for confirmation');
    return 1;
  }
  // The watcher lets go of the lock within a moment (it polls every 100 ms); wait for it,
  // even on a loaded machine, so that an apply right after finds the lock free.
  for (let i = 0; i < 300 && readLock(dir); i++) await new Promise((r) => setTimeout(r, 100));
  io.out('Confirmed: the change stays.\n');
  return 0;
}

export function registerApplyCommands(program: Command, ctx: ApplyContext): void {
  program
    .command('apply')
    .description('apply a policy (or a saved plan) to this system: shows the plan, asks, then changes only what differs; on any failure restores the previous state')
    .argument('<file>', 'policy file, or a plan saved with `plan -o plan.json`')
    .option('--target <list>', 'override target: ifb|imq, taprio|sch_tdma (comma-separated)')
    .option('-y, --yes', 'do not ask; needed when stdin is not a terminal (a saved plan needs none)')
    .option('--confirm <seconds>', 'revert unless `qospolicy confirm` runs within this many seconds')
    .option('--allow-destroy', 'apply a policy that shapes nothing (an empty file), removing what the last apply made')
    .action(async (file: string, opts: ApplyOpts) => ctx.setCode(await run(ctx, file, opts, 'apply')));

  program
    .command('teardown')
    .description('remove exactly what the policy owns (its qdiscs, ifb devices and iptables chains); nothing else')
    .argument('<file>', 'policy file')
    .option('--target <list>', 'override target: ifb|imq, taprio|sch_tdma (comma-separated)')
    .option('-y, --yes', 'do not ask; needed when stdin is not a terminal')
    .action(async (file: string, opts: ApplyOpts) => ctx.setCode(await run(ctx, file, opts, 'teardown')));

  program
    .command('confirm')
    .description('keep the change made by `apply --confirm`')
    .action(async () => ctx.setCode(await confirmCommand(ctx.io)));

  program
    .command('confirm-watch', { hidden: true })
    .option('--state-dir <dir>')
    .action(async (opts: { stateDir?: string }) => {
      const result = await watchConfirm(opts.stateDir ?? stateDir());
      ctx.setCode(result === 'confirmed' || result.restored ? 0 : 1);
    });
}
