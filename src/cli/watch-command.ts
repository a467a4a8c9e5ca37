// watch: keep a policy applied (what the systemd unit runs). Wiring only: the reconciler
// is in src/watch.
import { Command, Option } from 'commander';
import { stateDir } from '../plan/index.js';
import { makeLog, parseListen, watch, type Loaded, type LogFormat } from '../watch/index.js';
import { say } from './say.js';

export interface WatchContext {
  io: { out: (s: string) => void; err: (s: string) => void; color: boolean };
  /** The policy compiled, or its error diagnostics as text (for the log). */
  loadPolicy: (file: string, target?: string) => Promise<Loaded>;
  setCode: (code: number) => void;
}

interface WatchOpts {
  target?: string;
  interval: string;
  metrics?: string;
  logFormat: LogFormat;
}

export function registerWatchCommand(program: Command, ctx: WatchContext): void {
  const { io } = ctx;
  program
    .command('watch')
    .description(
      'keep a policy applied, in the foreground: applies it (without asking), then again when an interface of it appears or changes, ' +
        'and repairs drift every interval; SIGHUP reads the policy again, SIGTERM stops and leaves the shaping in place',
    )
    .argument('<file>', 'policy file')
    .option('--target <list>', 'override target: ifb|imq, taprio|sch_tdma (comma-separated)')
    .option('--interval <seconds>', 'check for drift this often', '60')
    .option('--metrics <host:port>', 'serve Prometheus metrics at http://HOST:PORT/metrics')
    .addOption(new Option('--log-format <format>', 'log lines').choices(['plain', 'json']).default('plain'))
    .action(async (file: string, opts: WatchOpts) => {
      const seconds = Number(opts.interval);
      // Fractions are allowed (tests reconcile many times a second); below 10 ms is a typo.
      if (!(seconds >= 0.01 && seconds <= 86400)) return usage(`--interval takes seconds (0.01 to 86400), not '${opts.interval}'`);
      const metrics = opts.metrics === undefined ? undefined : parseListen(opts.metrics);
      if (opts.metrics !== undefined && !metrics) return usage(`--metrics takes HOST:PORT (e.g. 127.0.0.1:9725), not '${opts.metrics}'`);
      const log = makeLog(opts.logFormat, io.out);
      ctx.setCode(
        await watch({ file, load: () => ctx.loadPolicy(file, opts.target), stateDir: stateDir(), intervalMs: seconds * 1000, log, ...(metrics ? { metrics } : {}) }),
      );
    });

  function usage(message: string): void {
    say(io, 'QP4002', message);
    ctx.setCode(1);
  }
}
