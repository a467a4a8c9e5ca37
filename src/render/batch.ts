// Desired state → files for the batch tools: `ip -batch`, `tc -batch`, `iptables-restore`
// (and ip6tables-restore) and a modprobe.d file. Meant for a clean boot: unlike the sh
// script these formats have no conditionals, so a re-run needs the owned state removed first.
import type { DesiredState } from '../model/types.js';
import { kindOf, type BatchOut } from '../kinds/index.js';
import { createArgvs } from './commands.js';
import { printable } from '../diagnostics/text.js';

export interface BatchFiles {
  /** file suffix → content */
  [suffix: string]: string;
}

/** Where one file's text goes, piece by piece, in order; `end` after the last piece. */
export interface TextSink {
  write(text: string): void;
  end(): void;
}

/** The batch files as strings, file suffix → content (only files with lines). */
export function renderBatch(state: DesiredState, header: string): BatchFiles {
  const files: BatchFiles = {};
  writeBatch(state, header, (suffix) => {
    const parts: string[] = [];
    return { write: (text) => void parts.push(text), end: () => void (files[suffix] = parts.join('')) };
  });
  return files;
}

/** tc's lines are written in pieces of about this many characters: small enough to die young (a piece that outlives two scavenges is copied to the old generation). */
const PIECE = 1 << 16;

/**
 * Writes the batch files in this order — modprobe.conf, ip, tc, iptables, ip6tables, sysfs —
 * each opened (`open`) only when it has lines. tc's file, every command of the objects whose
 * kind writes no batch lines of its own, is streamed: at 50 000 circuits it is a million lines.
 */
export function writeBatch(state: DesiredState, header: string, open: (suffix: string) => TextSink): void {
  const restore: Record<4 | 6, Map<string, { hook: string; rules: string[] }>> = { 4: new Map(), 6: new Map() };
  const out: BatchOut = {
    ip: [],
    modprobe: [],
    sysfs: [],
    rule(family, chain, hook, line) {
      const c = restore[family].get(chain) ?? { hook, rules: [] };
      c.rules.push(line);
      restore[family].set(chain, c);
    },
  };
  for (const o of state.objects) kindOf(o).batch?.(o, out);
  // The header names the policy file, whose name can hold a newline: escaped, it stays a comment.
  const first = (comment: string) => `${comment} ${printable(header)}\n`;
  const put = (suffix: string, lines: string[], comment = '#') => {
    if (!lines.length) return;
    const sink = open(suffix);
    sink.write(`${first(comment)}${lines.join('\n')}\n`);
    sink.end();
  };
  put('modprobe.conf', out.modprobe);
  put('ip', out.ip);
  streamTc(state, () => open('tc'), first('#'));
  for (const family of [4, 6] as const) {
    const chains = restore[family];
    if (!chains.size) continue;
    const lines = ['*mangle'];
    // Declaring our chains with --noflush empties them; built-in chains and others stay as they are.
    for (const chain of chains.keys()) lines.push(`:${chain} - [0:0]`);
    for (const [chain, c] of chains) lines.push(`-A ${c.hook} -j ${chain}`, ...c.rules);
    lines.push('COMMIT');
    put(family === 4 ? 'iptables' : 'ip6tables', lines);
  }
  put('sysfs', out.sysfs);
}

/** The tc file: each object's commands under its origin, in pieces of PIECE characters. */
function streamTc(state: DesiredState, open: () => TextSink, head: string): void {
  let sink: TextSink | undefined;
  let piece = '';
  const line = (text: string) => {
    sink ??= open();
    piece += text + '\n';
    if (piece.length >= PIECE) {
      sink.write(head + piece);
      head = piece = '';
    }
  };
  let origin: string | undefined;
  let shown = '';
  for (const o of state.objects) {
    const kind = kindOf(o);
    if (kind.batch) continue;
    if (o.origin) {
      // A class and its leaf qdisc share their origin: made printable once.
      if (o.origin.path !== origin) shown = printable((origin = o.origin.path));
      line(`# ${shown}`);
    }
    if (kind.tcLines) kind.tcLines(o, line);
    else for (const argv of createArgvs(o)) line(argv.slice(1).join(' '));
  }
  if (!sink) return;
  sink.write(head + piece);
  sink.end();
}
