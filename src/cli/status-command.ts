// status: the live counters of a policy's classes, by their names in the policy. Wiring only:
// reading is in src/state (stats.ts), the table in src/status.
import { printable } from '../diagnostics/text.js';
import { Command, Option } from 'commander';
import type { DesiredState } from '../model/types.js';
import { readClassCounters, ToolError } from '../state/index.js';
import { stateDir, StateWriteError } from '../plan/index.js';
import { settle } from './system.js';
import { missingOf, statusDevices, statusJson, statusSample, statusText, type StatusSample } from '../status/index.js';
import { say } from './say.js';

export interface StatusContext {
  io: { out: (s: string) => void; err: (s: string) => void; color: boolean };
  compileFile: (file: string, target?: string) => { state: DesiredState } | undefined;
  setCode: (code: number) => void;
}

interface StatusOpts {
  target?: string;
  watch?: string | true;
  count?: string;
  format: 'text' | 'json';
}

export function registerStatusCommand(program: Command, ctx: StatusContext): void {
  const { io } = ctx;
  program
    .command('status')
    .description("live counters of the policy's classes by their names: sent, dropped, overlimits, backlog; with --watch, the rate each class sends at")
    .argument('<file>', 'policy file')
    .option('--target <list>', 'override target: ifb|imq, taprio|sch_tdma (comma-separated)')
    .option('--watch [seconds]', 'read again every SECONDS (default 2) and show the rate of each class over the interval')
    .option('--count <n>', 'with --watch: stop after N readings')
    .addOption(new Option('--format <format>', 'output format').choices(['text', 'json']).default('text'))
    .action(async (file: string, opts: StatusOpts) => {
      try {
        await settle(stateDir(), io);
        ctx.setCode(await status(file, opts));
      } catch (e) {
        if (!(e instanceof ToolError || e instanceof StateWriteError)) throw e;
        say(io, e instanceof ToolError ? 'QP4026' : 'QP4020', e.message);
        ctx.setCode(1);
      }
    });

  async function status(file: string, opts: StatusOpts): Promise<number> {
    const seconds = opts.watch === undefined ? undefined : opts.watch === true ? 2 : Number(opts.watch);
    const count = opts.count === undefined ? undefined : Number(opts.count);
    if (seconds !== undefined && !(seconds > 0 && seconds <= 3600)) return usage(`--watch takes a number of seconds (0 < s ≤ 3600), not '${opts.watch}'`);
    if (count !== undefined && !(Number.isInteger(count) && count > 0)) return usage(`--count takes a whole number above 0, not '${opts.count}'`);
    if (count !== undefined && seconds === undefined) return usage('--count goes with --watch');
    const compiled = ctx.compileFile(file, opts.target);
    if (!compiled) return 1;
    const devices = statusDevices(compiled.state);
    if (devices.length === 0) {
      io.err(`${printable(file)} has no shaping classes to show\n`);
      return 0;
    }
    // On a terminal each reading replaces the last; elsewhere they follow one another.
    const clear = seconds !== undefined && opts.format === 'text' && process.stdout.isTTY ? '\x1b[H\x1b[2J' : '';
    let last: StatusSample | undefined;
    for (let n = 1; ; n++) {
      last = statusSample(compiled.state, await readClassCounters(devices), Date.now(), last);
      io.out(opts.format === 'json' ? statusJson(last) : clear + statusText(last, { file, watching: seconds !== undefined }) + (seconds !== undefined && !clear ? '\n' : ''));
      if (seconds === undefined || (count !== undefined && n >= count)) break;
      await new Promise((r) => setTimeout(r, seconds * 1000));
    }
    // A class missing from the system is an error for scripts (the last reading decides).
    return missingOf(last) > 0 ? 1 : 0;
  }

  function usage(message: string): number {
    say(io, 'QP4002', message);
    return 1;
  }
}
