// Desired state → files for the batch tools: `ip -batch`, `tc -batch`, `iptables-restore`
// (and ip6tables-restore) and a modprobe.d file. Meant for a clean boot: unlike the sh
// script these formats have no conditionals, so a re-run needs the owned state removed first.
import type { DesiredState } from '../model/types.js';
import { createArgvs } from './commands.js';
import { printable } from '../diagnostics/text.js';

export interface BatchFiles {
  /** file suffix → content */
  [suffix: string]: string;
}

export function renderBatch(state: DesiredState, header: string): BatchFiles {
  const ip: string[] = [];
  const tc: string[] = [];
  const modprobe: string[] = [];
  const restore: Record<4 | 6, Map<string, { hook: string; rules: string[] }>> = { 4: new Map(), 6: new Map() };
  for (const o of state.objects) {
    if (o.kind === 'module') {
      modprobe.push(`options ${o.module} ${Object.entries(o.params).map(([k, v]) => `${k}=${v}`).join(' ')}`);
    } else if (o.kind === 'link') {
      for (const argv of createArgvs(o)) ip.push(argv.slice(1).join(' '));
    } else if (o.kind === 'iptables') {
      const chains = restore[o.family];
      const c = chains.get(o.chain) ?? { hook: o.hook, rules: [] };
      c.rules.push(`-A ${o.chain} ${o.args.join(' ')}`);
      chains.set(o.chain, c);
    } else if (o.kind === 'sysfs') {
      // No batch tool writes sysfs; the sh format carries these.
    } else {
      if (o.origin) tc.push(`# ${printable(o.origin.path)}`);
      for (const argv of createArgvs(o)) tc.push(argv.slice(1).join(' '));
    }
  }
  const files: BatchFiles = {};
  const put = (suffix: string, lines: string[], comment = '#') => {
    // The header names the policy file, whose name can hold a newline: escaped, it stays a comment.
    if (lines.length) files[suffix] = `${comment} ${printable(header)}\n${lines.join('\n')}\n`;
  };
  put('modprobe.conf', modprobe);
  put('ip', ip);
  put('tc', tc);
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
  const sysfs = state.objects.filter((o) => o.kind === 'sysfs');
  if (sysfs.length) {
    put('sysfs', sysfs.map((o) => (o.kind === 'sysfs' ? `${o.path} ${o.value}` : '')));
  }
  return files;
}
