// Running `qospolicy watch` inside a test namespace and reading its JSON log as it goes.
import { execa, type ResultPromise } from 'execa';
import { readFileSync } from 'node:fs';
import { BIN } from '../apply/helpers.js';
import type { Netns } from '../support/netns.js';

export interface LogLine {
  time: string;
  event: string;
  message: string;
  ms?: number;
  changes?: string[];
}

export interface Watcher {
  pid: number;
  lines: LogLine[];
  /** Resolves with the first log line (from `from` on) that matches; rejects after timeoutMs. */
  waitFor(pred: (l: LogLine) => boolean, timeoutMs?: number, from?: number): Promise<LogLine>;
  /** SIGTERM; resolves with the exit code and how long it took to stop. */
  stop(): Promise<{ code: number; ms: number }>;
  child: ResultPromise;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function startWatch(ns: Netns, file: string, stateDir: string, args: string[] = [], env: Record<string, string> = {}): Watcher {
  const child = execa('ip', ['netns', 'exec', ns.name, process.execPath, BIN, 'watch', file, '--log-format', 'json', ...args], {
    env: { QOSPOLICY_STATE_DIR: stateDir, NO_COLOR: '1', ...env },
    buffer: false,
    reject: false,
    stdin: 'ignore',
  });
  const lines: LogLine[] = [];
  let rest = '';
  const waiters = new Set<() => void>();
  child.stdout?.setEncoding('utf8');
  child.stdout?.on('data', (chunk: string) => {
    const parts = (rest + chunk).split('\n');
    rest = parts.pop() ?? '';
    for (const p of parts) if (p.trim()) lines.push(JSON.parse(p) as LogLine);
    for (const w of waiters) w();
  });
  let stderr = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (c: string) => (stderr += c));
  return {
    pid: child.pid!,
    lines,
    child,
    waitFor(pred, timeoutMs = 15_000, from = 0) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const hit = lines.slice(from).find(pred);
          if (hit) {
            waiters.delete(check);
            clearTimeout(t);
            resolve(hit);
          }
        };
        const t = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no such log line within ${timeoutMs} ms; log:\n${lines.map((l) => JSON.stringify(l)).join('\n')}\nstderr: ${stderr}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    async stop() {
      const t0 = Date.now();
      child.kill('SIGTERM');
      const r = await child;
      return { code: r.exitCode ?? -1, ms: Date.now() - t0 };
    },
  };
}

/** Resident set size of a process, bytes. */
export const rssOf = (pid: number) => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) * 1024;

/** Polls until fn is true; returns the milliseconds it took, or throws after timeoutMs. */
export async function until(fn: () => Promise<boolean>, timeoutMs: number, everyMs = 20): Promise<number> {
  const t0 = Date.now();
  for (;;) {
    if (await fn()) return Date.now() - t0;
    if (Date.now() - t0 > timeoutMs) throw new Error(`not within ${timeoutMs} ms`);
    await sleep(everyMs);
  }
}

/** A metric's value in the exposition text (first sample whose line starts with `series`). */
export function metric(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(series + ' ') || l.startsWith(series + '{'));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

/** GET inside the namespace (its 127.0.0.1), with node's fetch (no curl needed); the body, or '' when it fails. */
export async function get(ns: Netns, url: string): Promise<string> {
  const r = await ns.run([process.execPath, '-e', `fetch(${JSON.stringify(url)}).then(async (r) => { if (!r.ok) process.exit(1); process.stdout.write(await r.text()); }, () => process.exit(1))`], { reject: false });
  // execa strips the final newline, which the exposition format requires: put it back.
  return r.exitCode === 0 ? `${String(r.stdout)}\n` : '';
}
