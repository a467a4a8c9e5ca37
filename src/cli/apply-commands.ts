// apply, confirm, teardown: the commands that change the system. Wiring only; the
// machinery is in src/apply (lock, drift check, snapshot, verify, restore).
import { Command } from 'commander';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline/promises';
import type { DesiredState } from '../model/types.js';
import { readLive, type LiveItem } from '../state/index.js';
import { makePlan, ownedOf, readStateFile, removesAllShaping, renderPlan, scopeFor, stateDir, STATE_FILE, writeStateFile, type Plan } from '../plan/index.js';
import { acquireLock, applyPlan, confirm, DriftError, LockedError, startConfirmWindow, watchConfirm, readLock, type Progress } from '../apply/index.js';

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

/** A plan file saved by `plan -o`, or undefined when `file` is a policy. */
function readPlanFile(file: string): Plan | undefined {
  if (!file.endsWith('.json')) return undefined;
  const plan = JSON.parse(readFileSync(file, 'utf8')) as Plan;
  if (plan.format !== 'qospolicy-plan' || plan.version !== 1) throw new Error(`${file} is not a qospolicy plan`);
  if (plan.mode !== 'plan') throw new Error(`${file} was made by \`diff\`, against no system: make one with \`qospolicy plan -o\``);
  return plan;
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

export function registerApplyCommands(program: Command, ctx: ApplyContext): void {
  const { io } = ctx;
  const tty = Boolean(process.stdin.isTTY && process.stderr.isTTY);

  /** Lock, plan (or load the plan), show, ask, apply; the lock is held throughout. */
  async function run(source: string, opts: ApplyOpts, mode: 'apply' | 'teardown'): Promise<number> {
    const dir = stateDir();
    const seconds = opts.confirm === undefined ? undefined : Number(opts.confirm);
    if (seconds !== undefined && !(Number.isInteger(seconds) && seconds > 0)) {
      io.err(`error QP4002: --confirm takes a whole number of seconds, not '${opts.confirm}'\n`);
      return 1;
    }
    let release: (() => void) | undefined;
    try {
      release = acquireLock(dir, `${mode} ${source}`);
    } catch (e) {
      if (e instanceof LockedError) {
        io.err(`error QP4006: ${e.message}; nothing was changed\n`);
        return 1;
      }
      throw e;
    }
    let handedOver = false;
    try {
      let plan: Plan | undefined;
      let live: LiveItem[] | undefined;
      try {
        plan = mode === 'apply' ? readPlanFile(source) : undefined;
      } catch (e) {
        io.err(`error QP4001: ${(e as Error).message}\n`);
        return 1;
      }
      // A saved plan was reviewed when it was made; anything else is shown and asked about,
      // and where nobody can answer (a boot script, cron) it needs --yes.
      const saved = plan !== undefined;
      if (!plan) {
        // Teardown removes: what the kernel could run does not matter to it.
        const compiled = mode === 'apply' ? await ctx.compileLive(source, opts.target) : ctx.compileFile(source, opts.target);
        if (!compiled) return 1;
        const previous = readStateFile(dir);
        const scope = scopeFor(compiled.state, previous?.owned);
        // Teardown: the desired state is nothing at all, in the policy's scope.
        const desired: DesiredState = mode === 'teardown' ? { objects: [], notes: [] } : compiled.state;
        live = await readLive(scope);
        plan = makePlan(desired, live, scope, { policy: compiled.ref, mode: mode === 'teardown' ? 'teardown' : 'plan' });
      }
      io.out(renderPlan(plan, 'text', { color: io.outColor ?? io.color }));
      if (plan.errors.length) {
        for (const e of plan.errors) io.err(`error QP4005: ${e}\n`);
        return 1;
      }
      const destroys = removesAllShaping(plan);
      if (destroys && !opts.allowDestroy) {
        io.err(`error QP4011: ${destroys}\n  = hint: to remove this policy's shaping run \`qospolicy teardown\`; to apply it anyway pass --allow-destroy\nNothing was changed.\n`);
        return 1;
      }
      if (plan.changes.length === 0) {
        // Nothing to change (e.g. the boot script already ran): still record what is owned.
        if (mode === 'apply') writeStateFile(dir, ownedOf(plan.desired.objects), plan.policy);
        return 0;
      }
      if (!opts.yes && !saved && !tty) {
        io.err(`error QP4010: not on a terminal, so nobody can confirm this ${mode}: pass --yes${mode === 'apply' ? ', or apply a plan saved with `qospolicy plan -o plan.json`' : ''}\nNothing was changed.\n`);
        return 1;
      }
      if (!opts.yes && tty && !(await ask(`${mode === 'teardown' ? 'Remove' : 'Apply'} these changes? [y/N] `))) {
        io.err('Nothing was changed.\n');
        return 1;
      }
      const result = await applyPlan(plan, { stateDir: dir, progress: progressBar(tty), ...(live ? { live } : {}) });
      if (!result.ok) {
        io.err(`error QP4007: ${result.reason}\n`);
        io.err(result.restored ? 'The system was restored to its state before the apply.\n' : `error QP4008: ${result.problem}\n`);
        return 1;
      }
      if (mode === 'teardown') rmSync(join(dir, STATE_FILE), { force: true });
      const s = plan.summary;
      io.out(mode === 'teardown' ? `Teardown complete: ${s.delete} removed.\n` : `Apply complete. ${s.create} to add, ${s.update} to change, ${s.replace} to replace, ${s.delete} to remove.\n`);
      if (seconds !== undefined) {
        startConfirmWindow(dir, seconds, plan.scope, result.snapshot);
        handedOver = true;
        io.out(`Run \`qospolicy confirm\` within ${seconds} s to keep it; otherwise it is reverted.\n`);
      }
      return 0;
    } catch (e) {
      if (e instanceof DriftError) {
        io.err(`error QP4005: ${e.message}\n`);
        return 1;
      }
      io.err(`error QP4004: ${(e as Error).message}\n`);
      return 1;
    } finally {
      if (!handedOver) release();
    }
  }

  program
    .command('apply')
    .description('apply a policy (or a saved plan) to this system: shows the plan, asks, then changes only what differs; on any failure restores the previous state')
    .argument('<file>', 'policy file, or a plan saved with `plan -o plan.json`')
    .option('--target <list>', 'override target: ifb|imq, taprio|sch_tdma (comma-separated)')
    .option('-y, --yes', 'do not ask; needed when stdin is not a terminal (a saved plan needs none)')
    .option('--confirm <seconds>', 'revert unless `qospolicy confirm` runs within this many seconds')
    .option('--allow-destroy', 'apply a policy that shapes nothing (an empty file), removing what the last apply made')
    .action(async (file: string, opts: ApplyOpts) => ctx.setCode(await run(file, opts, 'apply')));

  program
    .command('teardown')
    .description('remove exactly what the policy owns (its qdiscs, ifb devices and iptables chains); nothing else')
    .argument('<file>', 'policy file')
    .option('--target <list>', 'override target: ifb|imq, taprio|sch_tdma (comma-separated)')
    .option('-y, --yes', 'do not ask; needed when stdin is not a terminal')
    .action(async (file: string, opts: ApplyOpts) => ctx.setCode(await run(file, opts, 'teardown')));

  program
    .command('confirm')
    .description('keep the change made by `apply --confirm`')
    .action(async () => {
      const dir = stateDir();
      if (!confirm(dir)) {
        const reverted = existsSync(join(dir, 'reverted.json'));
        io.err(`error QP4009: nothing is waiting for confirmation${reverted ? ' (the last change was already reverted)' : ''}\n`);
        ctx.setCode(1);
        return;
      }
      // The watcher lets go of the lock within a moment (it polls every 100 ms); wait for it,
      // even on a loaded machine, so that an apply right after finds the lock free.
      for (let i = 0; i < 300 && readLock(dir); i++) await new Promise((r) => setTimeout(r, 100));
      io.out('Confirmed: the change stays.\n');
    });

  program
    .command('confirm-watch', { hidden: true })
    .option('--state-dir <dir>')
    .action(async (opts: { stateDir?: string }) => {
      const result = await watchConfirm(opts.stateDir ?? stateDir());
      ctx.setCode(result === 'confirmed' || result.restored ? 0 : 1);
    });
}
