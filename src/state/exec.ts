import { spawn } from 'node:child_process';

export interface CommandResult {
  /** Undefined when the command could not be started or was killed. */
  exitCode?: number;
  signal?: string;
  /** Without its final newline (as execa gives it). */
  stdout: string;
  stderr: string;
}

/**
 * Runs an argv (never a shell), writing `input` to its stdin, and collects its output.
 * node:child_process directly rather than execa: the reader runs a handful of commands
 * and execa added several milliseconds to each (over ten to the first).
 */
export function runCommand(argv: string[], input?: string): Promise<CommandResult> {
  return new Promise((resolve) => {
    const child = spawn(argv[0]!, argv.slice(1), { stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout!.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr!.on('data', (chunk: Buffer) => err.push(chunk));
    child.on('error', (e) => resolve({ stdout: '', stderr: e.message })); // could not start (ENOENT…)
    child.on('close', (code, signal) =>
      resolve({
        exitCode: code ?? undefined,
        signal: signal ?? undefined,
        stdout: chomp(Buffer.concat(out).toString('utf8')),
        stderr: chomp(Buffer.concat(err).toString('utf8')),
      }),
    );
    if (input !== undefined) {
      child.stdin!.on('error', () => {}); // the command may exit without reading it all; its exit code tells
      child.stdin!.end(input);
    }
  });
}

const chomp = (s: string) => (s.endsWith('\r\n') ? s.slice(0, -2) : s.endsWith('\n') ? s.slice(0, -1) : s);
