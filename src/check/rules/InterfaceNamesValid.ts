// QP2006: interface names must be names the kernel accepts (dev_valid_name: 1–15 bytes,
// not '.' or '..', no '/', ':' or whitespace) and, since they end up in tc/iptables command
// lines and boot scripts, contain no shell metacharacters either, no control characters,
// and no trailing '+' (an iptables wildcard).
import { diag } from '../../diagnostics/diagnostic.js';
import { printable } from '../../diagnostics/text.js';
import type { Name } from '../../syntax/ast.js';
import type { Rule } from '../rule.js';

/** IFNAMSIZ is 16 bytes including the terminating NUL. */
const IFNAME_MAX = 15;
const SHELL_META = /[$`;&|<>()\\'"*?[\]~!#{}=]/;

/** Why `name` is not a usable interface name, or undefined when it is fine. */
export function interfaceNameProblem(name: string): string | undefined {
  const bytes = Buffer.byteLength(name, 'utf8');
  if (bytes === 0) return 'is empty';
  if (bytes > IFNAME_MAX) return `is ${bytes} ${bytes === name.length ? 'characters' : 'bytes (UTF-8)'} long; Linux allows at most ${IFNAME_MAX} bytes`;
  if (name === '.' || name === '..') return 'is reserved by the kernel';
  if (name.includes('/')) return "contains '/', which the kernel rejects";
  if (name.includes(':')) return "contains ':', which the kernel rejects (alias labels like eth0:1 are not interfaces)";
  if (/\s/.test(name)) return 'contains whitespace, which the kernel rejects';
  const control = /[\p{Cc}\p{Cf}\u2028\u2029]/u.exec(name);
  if (control) return `contains the control character ${printable(control[0])}, which would reach terminals and logs`;
  // iptables reads a trailing '+' as a wildcard (-i eth+ is every eth*) and has no escape.
  if (name.endsWith('+')) return `ends in '+', which iptables reads as a wildcard over every interface whose name starts with '${name.slice(0, -1)}'`;
  const meta = SHELL_META.exec(name);
  if (meta) return `contains the shell metacharacter '${meta[0]}'`;
  return undefined;
}

export const InterfaceNamesValid: Rule = {
  name: 'InterfaceNamesValid',
  run({ policy, report }) {
    const check = (n: Name, where: string) => {
      const problem = interfaceNameProblem(n.text);
      if (!problem) return;
      report(
        diag('QP2006', `interface name '${n.text}' ${problem}`, n.span, {
          hint: `${where} names a network interface: use its name as \`ip link\` shows it (e.g. eth0, wan0, br-lan)`,
        }),
      );
    };
    for (const i of policy.interfaces) check(i.name, 'an interface block');
    for (const s of policy.shared) for (const m of s.members) check(m, `shared group '${s.name.text}'`);
    for (const t of policy.tdma) check(t.iface, 'a tdma block');
  },
};
