// The command line: wires the stages together and turns results into exit codes.
// Exit status: 0 success, 1 any error (bad input, bad usage, failed command).
import { Command, CommanderError } from 'commander';
import { printable } from '../diagnostics/text.js';
import { registerApplyCommands } from './apply-commands.js';
import { registerCompileCommands } from './compile-commands.js';
import { cliContext, defaultIo, VERSION, type Io } from './context.js';
import { registerPlanCommands } from './plan-commands.js';
import { say } from './say.js';
import { registerStatusCommand } from './status-command.js';
import { registerWatchCommand } from './watch-command.js';

export { load, withKernel, VERSION } from './context.js';

export async function main(argv: string[], io: Io = defaultIo()): Promise<number> {
  let code = 0;
  const program = new Command('qospolicy')
    .description('Compile Linux traffic-control policy into tc, iptables and module settings.')
    .version(VERSION)
    .exitOverride()
    .configureOutput({ writeOut: io.out, writeErr: io.err })
    .showHelpAfterError();
  const ctx = cliContext(io, (c) => void (code = c));
  registerCompileCommands(program, ctx);
  registerPlanCommands(program, ctx);
  registerApplyCommands(program, ctx);
  registerStatusCommand(program, ctx);
  registerWatchCommand(program, ctx);

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
