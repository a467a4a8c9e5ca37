// plan and diff: the commands that show a change without making it.
import { Command, Option } from 'commander';
import { writeFileSync } from 'node:fs';
import { printable } from '../diagnostics/text.js';
import { diffPolicies, removesAllShaping, renderPlan, stateDir, StateWriteError, type Plan, type PlanFormat } from '../plan/index.js';
import { ToolError } from '../state/index.js';
import type { CliContext, Io } from './context.js';
import { planSystem, warnTo } from './system.js';
import { say } from './say.js';

interface PlanOpts {
  target?: string;
  format: PlanFormat;
  detailedExitcode?: boolean;
  output?: string;
  steps?: boolean;
}

export const formatOption = () => new Option('--format <format>', 'output format').choices(['text', 'markdown', 'json']).default('text');

/** Print a plan; its errors go to stderr too. Exit: 1 errors, 2 changes (--detailed-exitcode), else 0. */
function emitPlan(io: Io, plan: Plan, opts: PlanOpts): number {
  io.out(renderPlan(plan, opts.format, { color: io.outColor ?? io.color, steps: opts.steps }));
  for (const e of plan.errors) say(io, 'QP4005', e);
  if (plan.errors.length) return 1;
  const destroys = removesAllShaping(plan);
  // apply refuses it (QP4011); a plan only shows it, so here it warns.
  if (destroys) say(io, 'QP4029', `${destroys}; apply refuses this without --allow-destroy`);
  if (opts.output) {
    try {
      writeFileSync(opts.output, JSON.stringify(plan, null, 2) + '\n');
    } catch (e) {
      say(io, 'QP4003', `cannot write ${printable(opts.output)}: ${printable((e as Error).message)}`);
      return 1;
    }
  }
  return opts.detailedExitcode && plan.changes.length > 0 ? 2 : 0;
}

/** `qospolicy plan FILE`: the exit code. */
async function planCommand(ctx: CliContext, file: string, opts: PlanOpts): Promise<number> {
  const { io } = ctx;
  const compiled = await ctx.compileLive(file, opts.target);
  if (!compiled) return 1;
  let plan: Plan;
  try {
    const sys = await planSystem(compiled.state, stateDir(), warnTo(io), { policy: compiled.ref });
    plan = sys.plan;
    // Shown, and an error: apply would refuse it.
    for (const c of sys.conflicts) say(io, 'QP4022', c);
    if (sys.conflicts.length) {
      io.out(renderPlan(plan, opts.format, { color: io.outColor ?? io.color, steps: opts.steps }));
      return 1;
    }
  } catch (e) {
    const c = e instanceof ToolError ? 'QP4026' : e instanceof StateWriteError ? 'QP4020' : 'QP4004';
    say(io, c, (e as Error).message);
    return 1;
  }
  return emitPlan(io, plan, opts);
}

export function registerPlanCommands(program: Command, ctx: CliContext): void {
  program
    .command('plan')
    .description('read the live system and show what apply would change (exit 2 with --detailed-exitcode when changes are pending)')
    .argument('<file>', 'policy file')
    .option('--target <list>', 'override target: ifb|imq, taprio|sch_tdma (comma-separated)')
    .addOption(formatOption())
    .option('--detailed-exitcode', 'exit 0 when nothing would change, 2 when something would, 1 on error')
    .option('-o, --output <path>', 'save the plan as JSON, for apply')
    .option('--steps', 'text: list every command in execution order')
    .action(async (file: string, opts: PlanOpts) => ctx.setCode(await planCommand(ctx, file, opts)));

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
      const before = ctx.compileFile(oldFile, opts.target);
      const after = ctx.compileFile(newFile, opts.target);
      if (!before || !after) return ctx.setCode(1);
      ctx.setCode(emitPlan(ctx.io, diffPolicies(before.state, after.state, { base: before.ref, policy: after.ref }), opts));
    });
}
