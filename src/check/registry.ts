// Every checker rule, in the order they run. Add a rule here and nowhere else.
import type { Rule } from './rule.js';
import { RateWithinCeil } from './rules/RateWithinCeil.js';

export const RULES: readonly Rule[] = [RateWithinCeil];
