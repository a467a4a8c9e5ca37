// Runs plan steps as argv through execa, never a shell. Consecutive steps of one tool go
// in one batch: `tc -batch -`, `ip -batch -`, `iptables-restore --noflush` (atomic per
// table; only qospolicy's own chains are named), so a thousand commands are a handful of
// processes. A failure names the step, its command and the tool's own message.
import { execa } from 'execa';
import { writeFileSync } from 'node:fs';
import type { Step } from '../plan/types.js';
import { stepText } from '../plan/index.js';

export interface StepFailure {
  /** Index into the steps given. */
  index: number;
  command: string;
  message: string;
}

export interface RunResult {
  /** Steps that ran to completion (a failed iptables batch applies none of its steps). */
  done: number;
  failure?: StepFailure;
}

export type Progress = (done: number, total: number) => void;

type Batch = { tool: Step['tool']; from: number; steps: Step[] };

function batches(steps: Step[]): Batch[] {
  const out: Batch[] = [];
  steps.forEach((s, i) => {
    const last = out[out.length - 1];
    const batchable = s.tool === 'tc' || s.tool === 'ip' || s.tool === 'iptables' || s.tool === 'ip6tables';
    if (last && batchable && last.tool === s.tool) last.steps.push(s);
    else out.push({ tool: s.tool, from: i, steps: [s] });
  });
  return out;
}

/** One iptables step as an iptables-restore line (`-N X` declares the chain). */
function restoreLine(argv: string[]): string {
  const rest = argv.slice(1);
  const t = rest.indexOf('-t');
  if (t >= 0) rest.splice(t, 2);
  if (rest[0] === '-N') return `:${rest[1]} - [0:0]`;
  return rest.join(' ');
}

/** "Command failed -:12" (tc, ip) or "line 12 failed" (iptables-restore) → 0-based line. */
function failedLine(stderr: string): number | undefined {
  const m = /Command failed -:(\d+)/.exec(stderr) ?? /line (\d+) failed/.exec(stderr);
  return m ? Number(m[1]) - 1 : undefined;
}

/**
 * Why a step cannot be run as it is, or undefined. Batch lines are split by the tool at
 * blanks and newlines, so a word holding one would become words or commands nobody
 * planned; sysfs writes go only where qospolicy writes (netqos figures, module parameters).
 */
export function unsafeStep(s: Step): string | undefined {
  const TOOLS = new Set(['tc', 'ip', 'iptables', 'ip6tables', 'modprobe', 'sysfs']);
  if (!TOOLS.has(s.tool) || !Array.isArray(s.argv) || s.argv.some((w) => typeof w !== 'string')) return `not a step qospolicy makes (tool ${String(s.tool)})`;
  if (s.tool === 'sysfs') {
    const [path = '', value = ''] = s.argv;
    const where = /^\/sys\/kernel\/netqos\/[\w./-]+$/.test(path) || /^\/sys\/module\/\w+\/parameters\/\w+$/.test(path);
    if (!where || path.includes('..') || /[\s\x00-\x1f]/.test(value)) return `a sysfs write outside qospolicy's files: ${JSON.stringify(path)}`;
    return undefined;
  }
  if (s.argv[0] !== s.tool) return `argv[0] is not ${s.tool}`;
  const bad = s.argv.find((w) => w === '' || /[\s\x00-\x1f\x7f"'\\#]/.test(w));
  return bad === undefined ? undefined : `the word ${JSON.stringify(bad)} would be split or read as another command`;
}

const TABLE_TRIES = 200;

/** `tc filter del … handle H: u32`: the deletion of a u32 hash table (plan/hitless.ts). */
const tableDeletion = (s: Step) => s.tool === 'tc' && s.argv[2] === 'del' && s.argv.at(-1) === 'u32' && /^[0-9a-f]+:$/.test(s.argv.at(-2) ?? '');

export async function runSteps(steps: Step[], progress?: Progress): Promise<RunResult> {
  // Checked before anything runs: a step nobody planned never runs, nor any before it.
  for (let i = 0; i < steps.length; i++) {
    const why = unsafeStep(steps[i]!);
    if (why) return { done: 0, failure: { index: i, command: stepText(steps[i]!), message: `refused before anything ran: ${why}` } };
  }
  let done = 0;
  for (const b of batches(steps)) {
    const fail = (offset: number, message: string): RunResult => {
      const index = b.from + Math.max(0, Math.min(offset, b.steps.length - 1));
      return { done, failure: { index, command: stepText(steps[index]!), message: message.trim() } };
    };
    if (b.tool === 'sysfs') {
      const [path, value] = b.steps[0]!.argv;
      try {
        writeFileSync(path!, `${value}\n`);
      } catch (e) {
        return fail(0, (e as Error).message);
      }
    } else if (b.tool === 'tc' || b.tool === 'ip') {
      let from = 0;
      for (let tries = 0; ; tries++) {
        const input = b.steps.slice(from).map((s) => s.argv.slice(1).join(' ')).join('\n') + '\n';
        const r = await execa(b.tool, ['-batch', '-'], { input, reject: false });
        if (r.exitCode === 0) break;
        const line = failedLine(String(r.stderr));
        // Lines before the failing one have been applied.
        if (line !== undefined) done += line;
        // A u32 table whose last link just went is freed a grace period later (measured:
        // "Can not delete in-use filter" for a few ms): that deletion is tried again.
        if (line !== undefined && tries < TABLE_TRIES && tableDeletion(b.steps[from + line]!) && /in-use/.test(String(r.stderr))) {
          from += line;
          await new Promise((ok) => setTimeout(ok, 10));
          continue;
        }
        return fail(from + (line ?? 0), String(r.stderr));
      }
      done -= from; // counted as they ran; the whole batch is counted below
    } else if (b.tool === 'iptables' || b.tool === 'ip6tables') {
      const lines = ['*mangle', ...b.steps.map((s) => restoreLine(s.argv)), 'COMMIT'];
      const r = await execa(`${b.tool}-restore`, ['--noflush'], { input: lines.join('\n') + '\n', reject: false });
      if (r.exitCode !== 0) return fail((failedLine(String(r.stderr)) ?? 1) - 1, String(r.stderr));
    } else {
      const [cmd, ...args] = b.steps[0]!.argv;
      const r = await execa(cmd!, args, { reject: false });
      if (r.exitCode !== 0) return fail(0, String(r.stderr) || `exit ${r.exitCode}`);
    }
    done += b.steps.length;
    progress?.(done, steps.length);
  }
  return { done };
}
