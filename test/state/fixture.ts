import { readFileSync } from 'node:fs';

/** The text of a recorded tc output in test/fixtures/tc/ (see record.sh there). */
export const fixture = (name: string) => readFileSync(new URL(`../fixtures/tc/${name}`, import.meta.url), 'utf8');
