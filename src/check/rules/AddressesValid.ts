// QP2009: addresses in matches must be valid IPv4/IPv6 addresses (as node:net reads them)
// with a prefix length the family allows (0–32 / 0–128).
import { diag } from '../../diagnostics/diagnostic.js';
import type { Prefix } from '../../syntax/ast.js';
import type { Rule } from '../rule.js';
import { everyCriterion } from '../util.js';
import { familyBits, isValidAddress } from '../net.js';

function addressHint(p: Prefix): string {
  if (/^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}$/.test(p.address)) return 'this looks like a MAC address; src and dst take IP addresses';
  if (p.family === 4 && p.address.split('.').some((o) => o.length > 1 && o.startsWith('0'))) {
    const fixed = p.address.split('.').map((o) => String(Number(o))).join('.');
    return `leading zeros read as octal in some tools: write ${fixed}`;
  }
  if (p.family === 4) return 'each of the four parts is 0–255';
  return 'an IPv6 address has eight 16-bit hex groups, with one :: for a run of zeros';
}

export const AddressesValid: Rule = {
  name: 'AddressesValid',
  run({ policy, report }) {
    everyCriterion(policy, (c) => {
      if (c.kind !== 'addr') return;
      for (const p of c.prefixes) {
        const valid = isValidAddress(p.address, p.family);
        if (!valid) {
          report(
            diag('QP2009', `'${p.address}' is not a valid IPv${p.family} address`, p.span, { hint: addressHint(p) }),
          );
          continue;
        }
        const bits = familyBits(p.family);
        if (!Number.isInteger(p.length) || p.length < 0 || p.length > bits) {
          report(
            diag('QP2009', `prefix length /${p.length} is out of range for IPv${p.family} (0–${bits})`, p.span, {
              hint: `an IPv${p.family} address has ${bits} bits: use /${bits} for a single host`,
            }),
          );
        }
      }
    });
  },
};
