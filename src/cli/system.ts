// The CLI's side of the planning stage (src/apply/system.ts): its warnings on stderr.
import { settlePending, type Warn } from '../apply/index.js';
import { say } from './say.js';

export { conflictsOf, planSystem, type SystemPlan } from '../apply/index.js';

export interface Say {
  err: (s: string) => void;
  color?: boolean;
}

/** The stage's warnings, printed as the CLI prints every diagnostic. */
export const warnTo = (io: Say): Warn => (code, message) => void say({ err: io.err, color: io.color ?? false }, code, message);

/** Performs an overdue revert and tells of a revert once (QP4024), for commands that do not plan. Throws StateWriteError. */
export async function settle(dir: string, io: Say): Promise<void> {
  for (const line of await settlePending(dir)) warnTo(io)('QP4024', line);
}
