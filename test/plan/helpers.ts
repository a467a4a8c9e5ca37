// Test helpers: policy text → desired state, and plans between policy versions or
// against a hand-made live state.
import { compileSource } from '../compile/pipeline.js';
import type { DesiredState } from '../../src/model/types.js';
import type { Settings } from '../../src/check/index.js';
import { assumedLive, diffPolicies, makePlan, ownedOf, scopeFor, type Owned, type Plan } from '../../src/plan/index.js';
import type { LiveItem } from '../../src/state/index.js';

export function compileText(text: string, override: Partial<Settings> = {}, file = 'test.pol'): DesiredState {
  const r = compileSource(file, text, override);
  if (!r.state) throw new Error(r.diagnostics.map((d) => `${d.code} ${d.message}`).join('\n'));
  return r.state;
}

/** The plan from what `oldText` leaves to `newText`. */
export const diffTexts = (oldText: string, newText: string, override: Partial<Settings> = {}): Plan =>
  diffPolicies(compileText(oldText, override), compileText(newText, override));

/** A plan of `desired` against a live state, owning what `previous` owned too. */
export const planAgainst = (desired: DesiredState, live: LiveItem[], previous?: Owned): Plan => makePlan(desired, live, scopeFor(desired, previous));

export { assumedLive, ownedOf };

/** Steps as command lines. */
export const lines = (plan: Plan) => plan.steps.map((s) => (s.tool === 'sysfs' ? `sysfs ${s.argv.join(' = ')}` : s.argv.join(' ')));

/** Changes as "symbol address" strings. */
export const changeList = (plan: Plan) => plan.changes.map((c) => `${c.action} ${c.address}${c.implicit ? ' (implicit)' : ''}`);

export const BASE = `
interface wan0 {
  link down 100mbit up 20mbit
  ingress rate 90mbit {
    class voice rate 4mbit ceil 10mbit prio 0 { match udp dport 5060 }
    class web rate 40mbit ceil 90mbit prio 2 { match tcp dport 80 }
    class bulk rate 30mbit ceil 90mbit prio 4 default
  }
  egress rate 18mbit {
    class office rate 8mbit ceil 18mbit prio 1 {
      match src 10.1.0.0/16
      class voip rate 2mbit ceil 4mbit prio 0 { match udp dport 5060 }
      class desk rate 6mbit ceil 18mbit prio 2 default
    }
    class rest rate 10mbit ceil 18mbit prio 5 default
  }
}
`;
