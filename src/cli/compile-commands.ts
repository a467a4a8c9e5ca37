// check and compile: the commands that read a policy and touch no system.
import { Command, Option } from 'commander';
import { writeFileSync } from 'node:fs';
import { compile } from '../backends/index.js';
import { diag, hasErrors } from '../diagnostics/diagnostic.js';
import { printable } from '../diagnostics/text.js';
import { renderBatch } from '../render/batch.js';
import { targetLabel } from '../render/commands.js';
import { renderSh } from '../render/sh.js';
import type { DesiredState } from '../model/types.js';
import { loadTargeted, report, successLine, VERSION, withKernel, type CliContext } from './context.js';
import { say } from './say.js';

type Format = 'sh' | 'batch' | 'json';

/** The compiled state as files to write (path undefined: stdout). */
function outputsOf(state: DesiredState, file: string, format: Format, output: string | undefined): Array<[string | undefined, string]> {
  if (format === 'batch') {
    const files = Object.entries(renderBatch(state, `qospolicy ${VERSION} from ${file} (${targetLabel(state)})`));
    return output ? files.map(([suffix, text]) => [`${output}.${suffix}`, text]) : [[undefined, files.map(([suffix, text]) => `==> ${suffix} <==\n${text}`).join('\n')]];
  }
  const text = format === 'json' ? JSON.stringify(state, null, 2) + '\n' : renderSh(state, { source: file, version: VERSION });
  return [[output, text]];
}

export function registerCompileCommands(program: Command, ctx: CliContext): void {
  const { io } = ctx;
  program
    .command('check')
    .description('parse and validate a policy; exit 1 on any error')
    .argument('<file>', 'policy file')
    .option('--json', 'print diagnostics as JSON objects on stdout')
    .option('--target <list>', 'override target: ifb|imq, taprio|sch_tdma (comma-separated)')
    .option('--kernel', 'also check that the running kernel has every qdisc, classifier, action and module the policy needs')
    .action(async (file: string, opts: { json?: boolean; target?: string; kernel?: boolean }) => {
      let loaded = loadTargeted(file, opts.target);
      if (opts.kernel) loaded = await withKernel(loaded, io.err);
      report(loaded, io, Boolean(opts.json));
      const code = hasErrors(loaded.diagnostics) ? 1 : 0;
      ctx.setCode(code);
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
    .action((file: string, opts: { target?: string; format: Format; output?: string; json?: boolean }) => {
      const loaded = loadTargeted(file, opts.target);
      // Warnings go to stderr; with --json they would mix with the output, so only errors stop us.
      // With --json they are one array, a file that cannot be written (QP4003) in it.
      const toStderr = { ...io, out: io.err };
      if (!opts.json || hasErrors(loaded.diagnostics)) report(loaded, toStderr, Boolean(opts.json));
      if (hasErrors(loaded.diagnostics)) return ctx.setCode(1);
      for (const [path, text] of outputsOf(compile(loaded.policy, loaded.settings), file, opts.format, opts.output)) {
        if (path === undefined) {
          io.out(text);
          continue;
        }
        try {
          writeFileSync(path, text, { mode: opts.format === 'sh' ? 0o755 : 0o644 });
        } catch (e) {
          const d = diag('QP4003', `cannot write ${printable(path)}: ${printable((e as Error).message)}`);
          if (opts.json) loaded.diagnostics.push(d);
          else say(io, d.code, d.message);
          ctx.setCode(1);
          break;
        }
      }
      if (opts.json) report(loaded, toStderr, true);
    });
}
