// The checker's one entry: AST → every diagnostic, plus the settings the compiler uses.
import type { Policy } from '../syntax/ast.js';
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import { resolveRates } from './resolve.js';
import { RULES } from './registry.js';
import type { Settings } from './rule.js';

export type { Settings } from './rule.js';
export * from './walk.js';
export { checkKernel, checkTxQueues, featuresToProbe, neededFeatures, tdmaDevices } from './features.js';

/** Beyond this many diagnostics the rest is noise; stop collecting. */
const MAX_DIAGNOSTICS = 200;

export function settingsOf(policy: Policy, override: Partial<Settings> = {}): Settings {
  return {
    ingress: override.ingress ?? policy.target?.ingress?.backend ?? 'ifb',
    tdma: override.tdma ?? (policy.target?.tdma?.backend.kind === 'module' ? 'module' : 'taprio'),
  };
}

export function check(policy: Policy, override: Partial<Settings> = {}): { settings: Settings; diagnostics: Diagnostic[] } {
  const settings = settingsOf(policy, override);
  const diagnostics = resolveRates(policy);
  const report = (d: Diagnostic) => {
    if (diagnostics.length < MAX_DIAGNOSTICS) diagnostics.push(d);
  };
  for (const rule of RULES) rule.run({ policy, settings, report });
  return { settings, diagnostics };
}
