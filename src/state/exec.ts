import { spawn } from 'node:child_process';
import { closeSync, fstatSync, openSync, readSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface CommandResult {
  /** Undefined when the command could not be started or was killed. */
  exitCode?: number;
  signal?: string;
  /** Without its final newline (as execa gives it). */
  stdout: string;
  stderr: string;
  /** The program could not be started: it is not installed, or not on PATH. */
  notFound?: boolean;
}

/** A tool qospolicy needs cannot be run: no reading of the system would be true without it. */
export class ToolError extends Error {
  constructor(readonly tool: string) {
    super(`cannot run ${tool}: it is not installed or not on PATH (${process.env.PATH ?? 'no PATH'}); install ${tool === 'tc' || tool === 'ip' ? 'iproute2' : tool}`);
  }
}

/** Throws ToolError when the result says the program could not be started. */
export function needTool(r: CommandResult, tool: string): CommandResult {
  if (r.notFound) throw new ToolError(tool);
  return r;
}

let files = 0;

/**
 * Runs an argv (never a shell), writing `input` to its stdin, and collects its output.
 * node:child_process directly rather than execa: the reader runs a handful of commands
 * and execa added several milliseconds to each (over ten to the first).
 *
 * stdout goes to an unlinked temporary file, not a pipe: a pipe holds 64 KB, and tc
 * listing a large tree stops whenever it is full and this process is busy parsing
 * another listing (for 1 000 classes that doubled the listing's time). Without a
 * writable temporary directory, a pipe it is.
 */
export function runCommand(argv: string[], input?: string): Promise<CommandResult> {
  let fd: number | undefined;
  try {
    const path = join(tmpdir(), `qospolicy-${process.pid}-${files++}`);
    fd = openSync(path, 'wx+', 0o600);
    unlinkSync(path);
  } catch {
    fd = undefined;
  }
  return new Promise((resolve) => {
    let child;
    try {
      child = spawn(argv[0]!, argv.slice(1), { stdio: [input === undefined ? 'ignore' : 'pipe', fd ?? 'pipe', 'pipe'] });
    } catch (e) {
      if (fd !== undefined) closeSync(fd);
      throw e;
    }
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout?.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr!.on('data', (chunk: Buffer) => err.push(chunk));
    const done = (result: Omit<CommandResult, 'stdout'>) => {
      let stdout = Buffer.concat(out);
      if (fd !== undefined) {
        const buf = Buffer.allocUnsafe(fstatSync(fd).size);
        let got = 0;
        for (let n = 1; got < buf.length && n > 0; got += n) n = readSync(fd, buf, got, buf.length - got, got);
        stdout = buf.subarray(0, got);
        closeSync(fd);
        fd = undefined;
      }
      resolve({ ...result, stdout: chomp(stdout.toString('utf8')) });
    };
    child.on('error', (e) => done({ stderr: e.message, ...((e as NodeJS.ErrnoException).code === 'ENOENT' ? { notFound: true } : {}) })); // could not start
    child.on('close', (code, signal) => done({ exitCode: code ?? undefined, signal: signal ?? undefined, stderr: chomp(Buffer.concat(err).toString('utf8')) }));
    if (input !== undefined) {
      child.stdin!.on('error', () => {}); // the command may exit without reading it all; its exit code tells
      child.stdin!.end(input);
    }
  });
}

const chomp = (s: string) => (s.endsWith('\r\n') ? s.slice(0, -2) : s.endsWith('\n') ? s.slice(0, -1) : s);
