// Which state directory set up an ifb/imq device, written on the device itself (its alias,
// `ip link set dev ifb0 alias qospolicy:/var/lib/qospolicy`): the kernel holds it for as
// long as the device lives, and every state directory on the machine sees it.
import { needTool, runCommand } from './exec.js';

const MARK = 'qospolicy:';

/** Device name → the state directory named in its alias, for devices that carry one. */
export async function readOwners(netns?: string): Promise<Map<string, string>> {
  const argv = ['ip', '-j', 'link', 'show'];
  const r = needTool(await runCommand(netns ? ['ip', 'netns', 'exec', netns, ...argv] : argv), 'ip');
  const out = new Map<string, string>();
  if (r.exitCode !== 0) return out;
  for (const l of JSON.parse(r.stdout) as Array<{ ifname: string; ifalias?: string }>) {
    if (l.ifalias?.startsWith(MARK)) out.set(l.ifname, l.ifalias.slice(MARK.length));
  }
  return out;
}

/** Marks devices as set up by the state directory `dir` (or clears the mark: dir undefined). Best effort. */
export async function markOwner(devices: string[], dir: string | undefined): Promise<void> {
  for (const dev of devices) await runCommand(['ip', 'link', 'set', 'dev', dev, 'alias', dir === undefined ? '' : MARK + dir]);
}
