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

export function renderBatch(state: DesiredState, header: string): BatchFiles {
  const restore: Record<4 | 6, Map<string, { hook: string; rules: string[] }>> = { 4: new Map(), 6: new Map() };
  const out: BatchOut = {
    ip: [],
    tc: [],
    modprobe: [],
    sysfs: [],
    rule(family, chain, hook, line) {
      const c = restore[family].get(chain) ?? { hook, rules: [] };
      c.rules.push(line);
      restore[family].set(chain, c);
    },
  };
  for (const o of state.objects) {
    const batch = kindOf(o).batch;
    if (batch) batch(o, out);
    else {
      if (o.origin) out.tc.push(`# ${printable(o.origin.path)}`);
      for (const argv of createArgvs(o)) out.tc.push(argv.slice(1).join(' '));
    }
  }
  const files: BatchFiles = {};
  const put = (suffix: string, lines: string[], comment = '#') => {
    // The header names the policy file, whose name can hold a newline: escaped, it stays a comment.
    if (lines.length) files[suffix] = `${comment} ${printable(header)}\n${lines.join('\n')}\n`;
  };
  put('modprobe.conf', out.modprobe);
  put('ip', out.ip);
  put('tc', out.tc);
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
  return files;
}
