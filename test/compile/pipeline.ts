// Test helper: source text → diagnostics and (when error-free) the desired state.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parsePolicy } from '../../src/syntax/index.js';
import { check, type Settings } from '../../src/check/index.js';
import { compile } from '../../src/backends/index.js';
import { hasErrors, type Diagnostic } from '../../src/diagnostics/diagnostic.js';
import type { DesiredState } from '../../src/model/types.js';

export function compileSource(
  file: string,
  text: string,
  override: Partial<Settings> = {},
): { diagnostics: Diagnostic[]; state?: DesiredState; settings: Settings } {
  const front = parsePolicy(file, text, { readFile: (p) => readFileSync(p, 'utf8'), resolve: (from, p) => join(dirname(from), p) });
  const checked = check(front.policy, override);
  const diagnostics = [...front.diagnostics, ...checked.diagnostics];
  if (hasErrors(diagnostics)) return { diagnostics, settings: checked.settings };
  return { diagnostics, state: compile(front.policy, checked.settings), settings: checked.settings };
}
