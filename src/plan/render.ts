// Plan → text (Terraform-like), markdown (a pull-request comment) and JSON. All three are
// rendered from the same Plan value, so they never disagree; every action and object kind
// has a rendering, and an unknown one is an error rather than an empty string.
import { printable } from '../diagnostics/text.js';
import type { U32Node } from '../model/types.js';
import { formatRate } from '../kernel/units.js';
import { canonical } from './objects.js';
import { stepText } from './steps.js';
import { ACTION_SYMBOL, type Action, type Change, type FieldChange, type Plan, type PlanObject } from './types.js';

export type PlanFormat = 'text' | 'markdown' | 'json';

export interface RenderOptions {
  /** ANSI colours (text only): on a terminal, never under NO_COLOR. */
  color?: boolean;
  /** Text: list every command, in execution order, after the changes. */
  steps?: boolean;
}

export function renderPlan(plan: Plan, format: PlanFormat, opts: RenderOptions = {}): string {
  switch (format) {
    case 'text':
      return renderText(plan, opts);
    case 'markdown':
      return renderMarkdown(plan);
    case 'json':
      return JSON.stringify(plan, null, 2) + '\n';
    default:
      throw new Error(`unknown plan format ${String(format)}`);
  }
}

// ---- shared pieces ----

const ORDER: Action[] = ['create', 'update', 'replace', 'delete'];

export function summaryLine(plan: Plan): string {
  const s = plan.summary;
  if (ORDER.every((a) => s[a] === 0)) return 'No changes.';
  // A teardown's desired state is nothing: it only removes.
  if (plan.mode === 'teardown') return `Teardown: ${s.delete} to remove.`;
  return `Plan: ${s.create} to add, ${s.update} to change, ${s.replace} to replace, ${s.delete} to remove.`;
}

function title(plan: Plan): string {
  if (plan.mode === 'diff') return `qospolicy diff: ${plan.base?.file ?? '(old)'} → ${plan.policy?.file ?? '(new)'}`;
  return `qospolicy ${plan.mode}${plan.policy ? `: ${printable(plan.policy.file)}` : ''}`;
}

function noChanges(plan: Plan): string {
  if (plan.mode === 'teardown') return 'Nothing of this policy is on the system.';
  return plan.mode === 'diff' ? 'Both policies compile to the same kernel objects.' : 'The live system matches the policy.';
}

const hex8 = (n: number) => `0x${(n >>> 0).toString(16).padStart(8, '0')}`;

const NODE_FIELDS = new Set(['ht', 'keys', 'mark', 'hashkey', 'link', 'flowid', 'connmark', 'action']);

/** A u32 node in tc's words (fields the renderer does not know are shown as data, never dropped). */
export function nodeText(n: U32Node): string {
  const parts: string[] = [];
  if (n.ht) parts.push(`ht ${n.ht}`);
  parts.push(...n.keys.map((k) => `match ${hex8(k.val)}/${hex8(k.mask)} at ${k.off}`));
  if (n.mark) parts.push(`mark ${hex8(n.mark.val)}/${hex8(n.mark.mask)}`);
  if (n.hashkey) parts.push(`hashkey mask ${hex8(n.hashkey.mask)} at ${n.hashkey.at}`);
  if (n.link) parts.push(`link ${n.link}`);
  if (n.flowid) parts.push(`flowid ${n.flowid}`);
  if (n.connmark) parts.push('action connmark');
  if (n.action?.kind === 'mirred') parts.push(`action mirred egress redirect dev ${n.action.dev}`);
  else if (n.action?.kind === 'skbedit') parts.push(`action skbedit priority ${n.action.priority}`);
  else if (n.action) parts.push(`action ${canonical(n.action)}`);
  for (const [k, v] of Object.entries(n)) if (!NODE_FIELDS.has(k) && v !== undefined) parts.push(`${k} ${canonical(v)}`);
  return parts.join(' ') || '(matches everything)';
}

/** One field value as people read it. */
export function valueText(kind: PlanObject['kind'], field: string, v: unknown): string {
  if (v === undefined) return '(none)';
  if (kind === 'class' && (field === 'rate' || field === 'ceil') && typeof v === 'number') return formatRate(v);
  if (kind === 'class' && (field === 'burst' || field === 'cburst') && typeof v === 'number') return `${v}b`;
  if (field === 'unmodeled' && Array.isArray(v)) return v.map((x) => (Array.isArray(x) ? `${x[0]} ${x[1]}` : String(x))).join('; ');
  if (field === 'nodes' && Array.isArray(v)) return `${v.length} node${v.length === 1 ? '' : 's'}`;
  if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v.join(', ');
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return String(v);
  return canonical(v);
}

/** A one-line description of an object (what a create adds, a delete removes). */
export function detail(o: PlanObject): string {
  switch (o.kind) {
    case 'qdisc':
      return [o.qdisc, o.handle, ...o.params.map(([k, v]) => `${k} ${v}`)].join(' ');
    case 'class':
      return `parent ${o.parent} rate ${formatRate(o.rate)} ceil ${formatRate(o.ceil)} prio ${o.prio} quantum ${o.quantum} burst ${o.burst}b cburst ${o.cburst}b`;
    case 'filter': {
      // Where the nodes send packets, each named once, in node order.
      const flows = new Set<string>();
      for (const n of o.nodes) {
        if (n.flowid) flows.add(n.flowid);
        else if (n.action?.kind === 'mirred') flows.add(`dev ${n.action.dev}`);
        else if (n.action?.kind === 'skbedit') flows.add(`priority ${n.action.priority}`);
      }
      return `protocol ${o.protocol}, ${o.nodes.length} node${o.nodes.length === 1 ? '' : 's'}${flows.size ? ` → ${Array.from(flows).join(', ')}` : ''}`;
    }
    case 'link':
      return o.type === 'require' ? 'required interface' : `${o.type} device, up`;
    case 'module':
      return Object.entries(o.params).map(([k, v]) => `${k}=${v}`).join(' ') || '(no parameters)';
    case 'sysfs':
      return `value ${o.value}`;
    case 'iptables':
      return `in ${o.chain} (jumped to from ${o.hook})`;
    case 'chain':
      return `jumped to from ${o.hook}`;
    default:
      throw new Error(`no rendering for ${(o as PlanObject).kind}`);
  }
}

const fieldLine = (c: Change, f: FieldChange) => `${f.field}: ${valueText(c.kind, f.field, f.before)} → ${valueText(c.kind, f.field, f.after)}`;

/** Lines of an LCS diff between two lists of node texts: ' ' kept, '-' removed, '+' added. */
export function lineDiff(before: string[], after: string[]): string[] {
  const n = before.length;
  const m = after.length;
  const lcs = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0));
  for (let i = n - 1; i >= 0; i--) for (let j = m - 1; j >= 0; j--) lcs[i]![j] = before[i] === after[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
  const out: string[] = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && before[i] === after[j]) {
      out.push(`  ${before[i++]}`);
      j++;
    } else if (j < m && (i === n || lcs[i]![j + 1]! > lcs[i + 1]![j]!)) out.push(`+ ${after[j++]}`);
    else out.push(`- ${before[i++]}`);
  }
  return out;
}

/** The body lines of a change (indented by the caller). */
function changeBody(c: Change): string[] {
  const lines: string[] = [];
  switch (c.action) {
    case 'create':
      lines.push(detail(c.after!));
      break;
    case 'delete':
      lines.push(detail(c.before!));
      break;
    case 'update':
    case 'replace': {
      // Fields in order, then the first `nodes` field as a diff of node lines.
      let nodes: FieldChange | undefined;
      for (const f of c.fields ?? []) {
        if (f.field !== 'nodes') lines.push(fieldLine(c, f));
        else nodes ??= f;
      }
      if (nodes) {
        lines.push('nodes:');
        const text = (v: unknown) => (Array.isArray(v) ? (v as U32Node[]).map(nodeText) : []);
        for (const l of lineDiff(text(nodes.before), text(nodes.after))) lines.push(`  ${l}`);
      }
      break;
    }
    default:
      throw new Error(`no rendering for action ${String(c.action)}`);
  }
  if (c.manual) lines.push(`manual: ${c.manual}`);
  return lines;
}

/** Implied replaces and removals with nothing of their own to show fit on one line. */
const oneLiner = (c: Change) => c.implicit === true && (c.action === 'delete' || !(c.fields ?? []).length);

// ---- text ----

const COLORS: Record<Action, string> = { create: '32', update: '33', replace: '35', delete: '31' };

function renderText(plan: Plan, opts: RenderOptions): string {
  const paint = (code: string, s: string) => (opts.color ? `\x1b[${code}m${s}\x1b[0m` : s);
  const out: string[] = [title(plan), ''];
  if (plan.changes.length === 0) out.push(`${noChanges(plan)}`, '');
  for (const c of plan.changes) {
    const head = `${paint(COLORS[c.action], ACTION_SYMBOL[c.action].padStart(3))} ${c.address}${c.origin ? `  (${c.origin})` : ''}`;
    if (oneLiner(c)) {
      out.push(`${head}  ${paint('2', `# ${c.reason ?? ''}`)}`);
      continue;
    }
    out.push(head);
    for (const l of changeBody(c)) out.push(`      ${l}`);
    if (c.reason) out.push(`      ${paint('2', `# ${c.reason}`)}`);
  }
  if (plan.changes.length) out.push('');
  out.push(paint('1', summaryLine(plan)));
  for (const n of plan.notes) out.push(`Note: ${n}`);
  for (const e of plan.errors) out.push(paint('31', `Error: ${e}`));
  if (opts.steps && plan.steps.length) {
    out.push('', `Commands, in order (${plan.steps.length}):`);
    const width = String(plan.steps.length).length;
    plan.steps.forEach((s, i) => out.push(`  ${String(i + 1).padStart(width)}  ${stepText(s)}`));
  }
  return out.join('\n') + '\n';
}

// ---- markdown ----

const cell = (s: string) => s.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\n/g, '<br>');
const code = (s: string) => (s.includes('`') ? `\`\` ${s} \`\`` : `\`${s}\``);

/**
 * A markdown plan is a pull-request comment, and GitHub refuses comments over 65 536
 * characters: the whole comment stays under this, with room to spare for a wrapper.
 */
export const MARKDOWN_LIMIT = 60_000;
/** Changes alike in all but their object are folded into one table row from this many on. */
const FOLD_AT = 3;

/** 10000 → `10 000`. */
const spaced = (n: number) => n.toLocaleString('en-US').replace(/,/g, ' ');

/** A table row's change text: the body lines (node diffs as a count) and the reason. */
function rowText(c: Change): string {
  const body = oneLiner(c) ? [] : changeBody(c).filter((l) => !l.startsWith('  ') && l !== 'nodes:');
  const nodes = (c.fields ?? []).find((f) => f.field === 'nodes');
  if (nodes && !oneLiner(c)) body.push(`nodes: ${valueText('filter', 'nodes', nodes.before)} → ${valueText('filter', 'nodes', nodes.after)}`);
  return [...body, ...(c.reason ? [`_${c.reason}_`] : [])].join('\n');
}

/** The policy path a change's siblings share: `wan0 ingress › guests` for `… › guests › 192.168.10.9`. */
const parentPath = (c: Change) => (c.origin?.includes(' › ') ? c.origin.slice(0, c.origin.lastIndexOf(' › ')) : undefined);

/**
 * Changes grouped for the table, in first-seen order. `alike`: changes of one action and
 * kind, on one device, under one policy parent, whose text is the same but for handles and
 * classids (a `fair hosts` rate change: one line per host). `kind`: the same without the
 * text (values differ), for plans whose alike groups still do not fit.
 */
function fold(changes: Change[], by: 'alike' | 'kind'): Change[][] {
  const keyOf = (c: Change, i: number) => {
    const parent = parentPath(c);
    if (parent === undefined) return `#${i}`;
    const dev = /^\S+ (\S+)/.exec(c.address)?.[1] ?? '';
    const what = by === 'alike' ? alikeText(c) : (c.fields ?? []).map((f) => f.field).join(',');
    return [c.action, c.kind, dev, parent, c.implicit ? 'implicit' : '', what].join('\u0000');
  };
  const keys = changes.map(keyOf);
  const groups = new Map<string, Change[]>();
  changes.forEach((c, i) => {
    const g = groups.get(keys[i]!);
    if (g) g.push(c);
    else groups.set(keys[i]!, [c]);
  });
  // A group big enough to fold is one row where its first change is; the rest keep their place.
  const out: Change[][] = [];
  changes.forEach((c, i) => {
    const g = groups.get(keys[i]!)!;
    if (g.length < FOLD_AT) out.push([c]);
    else if (g[0] === c) out.push(g);
  });
  return out;
}

const PLURAL: Record<Change['kind'], string> = {
  class: 'classes',
  qdisc: 'qdiscs',
  filter: 'filters',
  link: 'links',
  module: 'modules',
  sysfs: 'sysfs files',
  iptables: 'iptables rules',
  chain: 'chains',
};
/** A change's text without its handles and classids: what folded changes share. */
const alikeText = (c: Change) => rowText(c).replace(/\b[0-9a-f]+:[0-9a-f]*/g, ':');

function tableRow(g: Change[]): string {
  const c = g[0]!;
  const action = `\`${ACTION_SYMBOL[c.action]}\``;
  if (g.length === 1) return `| ${action} | ${code(c.address)} | ${cell(c.origin ?? '')} | ${cell(rowText(c))} |`;
  const first = alikeText(c);
  const text = g.every((x) => alikeText(x) === first)
    ? rowText(c)
    : `${(c.fields ?? []).map((f) => f.field).join(', ') || 'each'}: values differ (all under Changes in detail), e.g.\n${rowText(c)}`;
  return `| ${action} | **${spaced(g.length)} ${PLURAL[c.kind]}** (e.g. ${code(c.address)}) | ${cell(`${parentPath(c)} › *`)} | ${cell(text)} |`;
}

/** Lines up to a budget of characters: all of them, or as many as fit and how many did not. */
function fit(lines: string[], budget: number): { lines: string[]; cut: number } {
  let used = 0;
  for (let i = 0; i < lines.length; i++) {
    used += lines[i]!.length + 1;
    if (used > budget) return { lines: lines.slice(0, i), cut: lines.length - i };
  }
  return { lines, cut: 0 };
}

const CUT_HINT = 'run `qospolicy plan` (text, `--steps`) or `--format json` for all of it';

function renderMarkdown(plan: Plan): string {
  // The budgets below leave room for the fixed lines; should a plan's still overflow, give more.
  for (let reserve = 1500; ; reserve *= 2) {
    const text = markdownWithin(plan, MARKDOWN_LIMIT - reserve);
    // Counted in UTF-8 bytes (→ and › are three): under the limit however GitHub counts.
    if (Buffer.byteLength(text) < MARKDOWN_LIMIT || reserve > MARKDOWN_LIMIT) return text;
  }
}

function markdownWithin(plan: Plan, limit: number): string {
  const out: string[] = [];
  const what = plan.mode === 'diff' ? `${code(printable(plan.base?.file ?? '(old)'))} → ${code(printable(plan.policy?.file ?? '(new)'))}` : plan.policy ? code(printable(plan.policy.file)) : '';
  out.push(`### qospolicy ${plan.mode}${what ? `: ${what}` : ''}`, '');
  out.push(`**${summaryLine(plan)}**${plan.changes.length ? '' : ` ${noChanges(plan)}`}`, '');
  // Errors and notes can name every object of a plan: each is shortened, never left out.
  const short = (s: string) => (s.length > 2000 ? `${s.slice(0, 2000)}… (${spaced(s.length - 2000)} characters cut)` : s);
  for (const e of plan.errors) out.push(`> **Error:** ${short(e)}`, '');
  for (const n of plan.notes) out.push(`> Note: ${short(n)}`, '');
  // What is left for the table, the details and the commands, with room for the closing lines.
  let budget = limit - out.join('\n').length;
  let cut = false;
  if (plan.changes.length) {
    const head = ['| | object | policy | change |', '|:-:|---|---|---|'];
    let rows = fold(plan.changes, 'alike').map(tableRow);
    if (rows.join('\n').length > budget / 2) rows = fold(plan.changes, 'kind').map(tableRow);
    const table = fit(rows, budget / 2);
    out.push(...head, ...table.lines);
    if (table.cut) {
      out.push(`| | _${spaced(table.cut)} more rows cut_ | | |`);
      cut = true;
    }
    out.push('');
    budget -= [...head, ...table.lines, ''].join('\n').length + 200;

    const detail: string[] = [];
    for (const c of plan.changes) {
      const h = `${ACTION_SYMBOL[c.action]} ${c.address}${c.origin ? `  (${c.origin})` : ''}`;
      if (oneLiner(c)) {
        detail.push(`${h}  # ${c.reason ?? ''}`);
        continue;
      }
      detail.push(h);
      // Node lines keep their + / - in the first column, where GitHub colours them.
      for (const l of changeBody(c)) detail.push(/^ {2}[-+ ] /.test(l) ? `${l[2]}       ${l.slice(4)}` : `      ${l}`);
      if (c.reason) detail.push(`      # ${c.reason}`);
    }
    // The details may use half of what is left, or more when the commands need less.
    const stepsLength = plan.steps.reduce((n, st) => n + stepText(st).length + 1, 0);
    const shown = fit(detail, Math.max(budget / 2, budget - stepsLength - 200));
    out.push('<details><summary>Changes in detail</summary>', '', '```diff', ...shown.lines, '```', '');
    if (shown.cut) {
      out.push(`_Cut to fit one comment: ${spaced(shown.cut)} of ${spaced(detail.length)} lines not shown; ${CUT_HINT}._`, '');
      cut = true;
    }
    out.push('</details>', '');
    budget -= [...shown.lines, ''].join('\n').length + 300;
  }
  if (plan.steps.length) {
    const shown = fit(plan.steps.map(stepText), budget);
    out.push(`<details><summary>Commands, in order (${spaced(plan.steps.length)})</summary>`, '', '```sh', ...shown.lines, '```', '');
    if (shown.cut) {
      out.push(`_Cut to fit one comment: ${spaced(shown.cut)} of ${spaced(plan.steps.length)} commands not shown; ${CUT_HINT}._`, '');
      cut = true;
    }
    out.push('</details>', '');
  }
  if (cut) out.splice(4, 0, `> This comment is shortened to fit GitHub's limit: parts are cut below, each marked; ${CUT_HINT}.`, '');
  return out.join('\n');
}
