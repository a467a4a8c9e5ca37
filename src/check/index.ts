// The checker's one entry: AST → every diagnostic, plus the settings the compiler uses.
import type { Policy } from '../syntax/ast.js';
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import { RULES } from './registry.js';
import type { Settings } from './rule.js';
import type { Span } from '../diagnostics/span.js';

export type { Settings } from './rule.js';
export * from './walk.js';
export { checkKernel, checkTxQueues, featuresToProbe, neededFeatures, tdmaDevices } from './features.js';

/** Beyond this many diagnostics the rest is noise; stop collecting. */
const MAX_DIAGNOSTICS = 200;

export function settingsOf(policy: Policy, override: Partial<Settings> = {}): Settings {
  const declared = policy.target?.features ? new Set(policy.target.features.names.map((n) => n.text)) : undefined;
  const features = override.features ?? declared;
  return {
    ingress: override.ingress ?? policy.target?.ingress?.backend ?? 'ifb',
    tdma: override.tdma ?? (policy.target?.tdma?.backend.kind === 'module' ? 'module' : 'taprio'),
    ...(features ? { features } : {}),
  };
}

export function check(policy: Policy, override: Partial<Settings> = {}): { settings: Settings; diagnostics: Diagnostic[] } {
  const settings = settingsOf(policy, override);
  const diagnostics: Diagnostic[] = [];
  // One diagnostic for one mistake: a value that did not resolve (NaN, see
  // Policy.unresolved) has had its diagnostic; no rule reports on it again.
  const report = (d: Diagnostic) => {
    if (d.span && policy.unresolved.some((u) => within(d.span!, u))) return;
    if (diagnostics.length < MAX_DIAGNOSTICS) diagnostics.push(d);
  };
  for (const rule of RULES) rule.run({ policy, settings, report });
  return { settings, diagnostics };
}

const within = (s: Span, outer: Span): boolean => s.file === outer.file && s.start.offset >= outer.start.offset && s.end.offset <= outer.end.offset;
