// Regenerates the diagnostic-code table in README.md from src/diagnostics/codes.ts (built).
import { readFileSync, writeFileSync } from 'node:fs';
import { CODES } from '../dist/diagnostics/codes.js';

export function codesTable() {
  const rows = Object.entries(CODES).map(([code, { severity, title }]) => `| ${code} | ${severity} | ${title} |`);
  return ['| code | severity | meaning |', '|---|---|---|', ...rows].join('\n');
}

if (process.argv[2] === '--write') {
  const readme = readFileSync('README.md', 'utf8');
  const out = readme.replace(/<!-- codes:begin -->[\s\S]*<!-- codes:end -->/, `<!-- codes:begin -->\n${codesTable()}\n<!-- codes:end -->`);
  writeFileSync('README.md', out);
}
