// Live class counters, for `qospolicy status`: what each class has sent and dropped.
import { needTool, runCommand } from './exec.js';
import { parseSize } from '../kernel/units.js';
import { normClassid } from '../kernel/handles.js';

export interface ClassCounters {
  bytes: number;
  packets: number;
  /** Packets its leaf queue refused (htb counts them on the class). */
  drops: number;
  /** Times the class was over its rate or ceil and had to wait or borrow. */
  overlimits: number;
  backlogBytes: number;
  backlogPackets: number;
}

/**
 * Counters by classid from `tc -s class show dev DEV` (text, like parseClasses: no JSON for
 * htb in iproute2 6.1). Each class is a head line and indented counter lines:
 *
 *   class htb 1:a3 parent 1:1 leaf a3: prio 7 rate 1Mbit ceil 2Mbit burst 1725b cburst 67136b
 *    Sent 496 bytes 6 pkt (dropped 0, overlimits 0 requeues 0)
 *    backlog 0b 0p requeues 0
 *
 * Classes of any kind are read (their counters print the same); ids without a major
 * (mq's `:1`) are skipped.
 */
export function parseClassCounters(text: string): Map<string, ClassCounters> {
  const out = new Map<string, ClassCounters>();
  let current: ClassCounters | undefined;
  for (const line of text.split('\n')) {
    const head = /^class \S+ ([0-9a-f]+:[0-9a-f]+) /i.exec(line);
    if (head) {
      current = { bytes: 0, packets: 0, drops: 0, overlimits: 0, backlogBytes: 0, backlogPackets: 0 };
      out.set(normClassid(head[1]!), current);
      continue;
    }
    if (line.startsWith('class ')) current = undefined;
    if (!current) continue;
    const sent = /^\s*Sent (\d+) bytes (\d+) pkt \(dropped (\d+), overlimits (\d+)/.exec(line);
    if (sent) {
      current.bytes = Number(sent[1]);
      current.packets = Number(sent[2]);
      current.drops = Number(sent[3]);
      current.overlimits = Number(sent[4]);
    }
    const backlog = /^\s*backlog (\S+) (\d+)p/.exec(line);
    if (backlog) {
      current.backlogBytes = parseSize(backlog[1]!);
      current.backlogPackets = Number(backlog[2]);
    }
  }
  return out;
}

/**
 * The class counters of each device (one `tc -s class show` each, as argv); a device
 * that cannot be listed (it does not exist) maps to undefined.
 */
export async function readClassCounters(devices: string[]): Promise<Map<string, Map<string, ClassCounters> | undefined>> {
  // tc missing is an error, not every class "not on the system"
  const listed = (await Promise.all(devices.map((dev) => runCommand(['tc', '-s', 'class', 'show', 'dev', dev])))).map((r) => needTool(r, 'tc'));
  return new Map(devices.map((dev, i) => [dev, listed[i]!.exitCode === 0 ? parseClassCounters(listed[i]!.stdout) : undefined]));
}
