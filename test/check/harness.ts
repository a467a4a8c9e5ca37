// Test harness for the checker: source text → diagnostics (parse, lower and check).
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parsePolicy } from '../../src/syntax/index.js';
import { check, type Settings } from '../../src/check/index.js';
import type { Diagnostic } from '../../src/diagnostics/diagnostic.js';
import type { Code } from '../../src/diagnostics/codes.js';

export const FILE = 'test.pol';

/** Every diagnostic of the front end and the checker, in the order they were found. */
export function diagnosticsOf(source: string, settings: Partial<Settings> = {}, file = FILE): Diagnostic[] {
  const io = { readFile: (p: string) => readFileSync(p, 'utf8'), resolve: (from: string, p: string) => join(dirname(from), p) };
  const { policy, diagnostics } = parsePolicy(file, source, io);
  return [...diagnostics, ...check(policy, settings).diagnostics];
}

/** The sorted codes of every diagnostic. */
export function codesOf(source: string, settings: Partial<Settings> = {}): Code[] {
  return diagnosticsOf(source, settings)
    .map((d) => d.code)
    .sort();
}

/** The diagnostics with one code. */
export const withCode = (source: string, code: Code, settings: Partial<Settings> = {}): Diagnostic[] =>
  diagnosticsOf(source, settings).filter((d) => d.code === code);

/** "line:col" of a diagnostic's span (or of a related span). */
export const at = (d: { span?: Diagnostic['span'] } | undefined): string =>
  d?.span ? `${d.span.start.line}:${d.span.start.col}` : '-';

/** Where each related span of a diagnostic starts. */
export const relatedAt = (d: Diagnostic | undefined): string[] => (d?.related ?? []).map((r) => at(r));

/**
 * An interface `eth0` with one egress tree; `body` starts on line 3.
 *   1 interface eth0 {
 *   2   egress rate 10mbit {
 *   3   …body
 */
export const egress = (body: string, rate = '10mbit', name = 'eth0'): string =>
  `interface ${name} {\n  egress rate ${rate} {\n${body}\n  }\n}\n`;

/** The same with an ingress tree (`ingressWith` e.g. 'imq' for `ingress imq rate …`). */
export const ingress = (body: string, rate = '10mbit', name = 'eth0', backend = ''): string =>
  `interface ${name} {\n  ingress ${backend ? `${backend} ` : ''}rate ${rate} {\n${body}\n  }\n}\n`;

/** A complete, clean class line: rate, ceil and a default or a match. */
export const rest = '    class rest rate 1mbit ceil 10mbit default';
