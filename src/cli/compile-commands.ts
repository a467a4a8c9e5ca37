// check and compile: the commands that read a policy and touch no system.
import { Command, Option } from 'commander';
import { closeSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { compile } from '../backends/index.js';
import { diag, hasErrors } from '../diagnostics/diagnostic.js';
import { printable } from '../diagnostics/text.js';
import { renderBatch, writeBatch, type TextSink } from '../render/batch.js';
import { targetLabel } from '../render/commands.js';
import { renderSh } from '../render/sh.js';
import type { DesiredState } from '../model/types.js';
import { loadTargeted, report, successLine, VERSION, withKernel, type CliContext } from './context.js';
import { say } from './say.js';

type Format = 'sh' | 'batch' | 'json';

/** The compiled state as files to write (path undefined: stdout); batch files with a path are streamed (writeOutputs). */
function outputsOf(state: DesiredState, file: string, format: Format, output: string | undefined): Array<[string | undefined, string]> {
  if (format === 'batch') {
    const files = Object.entries(renderBatch(state, batchHeader(state, file)));
    return [[undefined, files.map(([suffix, text]) => `==> ${suffix} <==\n${text}`).join('\n')]];
  }
  const text = format === 'json' ? JSON.stringify(state, null, 2) + '\n' : renderSh(state, { source: file, version: VERSION });
  return [[output, text]];
}

const batchHeader = (state: DesiredState, file: string) => `qospolicy ${VERSION} from ${file} (${targetLabel(state)})`;

/** A file written piece by piece, created with `mode` or truncated (as writeFileSync writes it). */
function fileSink(path: string, mode: number): TextSink {
  const fd = openSync(path, 'w', mode);
  const write = (text: string) => {
    const bytes = Buffer.from(text);
    for (let at = 0; at < bytes.length; ) at += writeSync(fd, bytes, at);
  };
  return {
    write(text) {
      try {
        write(text);
      } catch (e) {
        closeSync(fd);
        throw e;
      }
    },
    end: () => closeSync(fd),
  };
}

/** A file that could not be written: its path and the system's error. */
interface WriteFailure {
  path: string;
  error: Error;
}

/**
 * Writes the compiled outputs; batch files with `-o` go to NAME.SUFFIX piece by piece (a
 * 50 000-circuit tc file is never one string). Stops at the first file that cannot be written.
 */
function writeOutputs(state: DesiredState, file: string, format: Format, output: string | undefined, io: CliContext['io']): WriteFailure | undefined {
  let failed: WriteFailure | undefined;
  /** Runs one file system call for `path`; its error is the failure (any other error is a bug, thrown). */
  const onFile = <T>(path: string, call: () => T): T => {
    try {
      return call();
    } catch (e) {
      failed = { path, error: e as Error };
      throw e;
    }
  };
  try {
    if (format === 'batch' && output) {
      writeBatch(state, batchHeader(state, file), (suffix) => {
        const path = `${output}.${suffix}`;
        const sink = onFile(path, () => fileSink(path, 0o644));
        return { write: (text) => onFile(path, () => sink.write(text)), end: () => onFile(path, () => sink.end()) };
      });
      return undefined;
    }
    for (const [to, text] of outputsOf(state, file, format, output)) {
      if (to === undefined) io.out(text);
      else onFile(to, () => writeFileSync(to, text, { mode: format === 'sh' ? 0o755 : 0o644 }));
    }
  } catch (e) {
    if (failed) return failed;
    throw e;
  }
  return undefined;
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
      const failed = writeOutputs(compile(loaded.policy, loaded.settings), file, opts.format, opts.output, io);
      if (failed) {
        const d = diag('QP4003', `cannot write ${printable(failed.path)}: ${printable(failed.error.message)}`);
        if (opts.json) loaded.diagnostics.push(d);
        else say(io, d.code, d.message);
        ctx.setCode(1);
      }
      if (opts.json) report(loaded, toStderr, true);
    });
}
