// Baseline for `qospolicy compile FILE`: a Node process that reads FILE and splits it into
// lines and whitespace-separated tokens — the least any parser in Node must do — and
// prints the counts. No JSON, no libraries.
import { readFileSync } from 'node:fs';

const text = readFileSync(process.argv[2], 'utf8');
let lines = 0;
let tokens = 0;
for (const line of text.split('\n')) {
  lines++;
  const code = line.split('#')[0];
  for (const t of code.split(/[\s{};,]+/)) if (t) tokens++;
}
process.stdout.write(`${lines} lines, ${tokens} tokens\n`);
