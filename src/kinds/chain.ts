// One of qospolicy's own mangle chains, with the one jump to it from its hook. Made before
// its first rule; a chain jumped to more than once (or not at all) is put right in place.
import type { IptablesChain } from '../state/iptables.js';
import { cmd, CREATE, SAME, type Argv, type Kind } from './kind.js';
import { iptablesBin } from './iptables.js';

const jumpArgv = (o: IptablesChain, op: '-A' | '-D') => [iptablesBin(o.family), '-t', o.table, op, o.hook, '-j', o.chain];

const createArgvs = (o: IptablesChain) => [[iptablesBin(o.family), '-t', o.table, '-N', o.chain], jumpArgv(o, '-A')];

export const chain: Kind<IptablesChain> = {
  plural: 'chains',
  address: (o) => `chain ${iptablesBin(o.family)} ${o.table} ${o.chain}`,
  detail: (o) => `jumped to from ${o.hook}`,
  commands: createArgvs,
  create: (o) => createArgvs(o).map(cmd),
  update(want, live): Argv[] {
    if (live.jumps === 0) return [cmd(jumpArgv(want, '-A'))];
    return Array.from({ length: live.jumps - 1 }, () => cmd(jumpArgv(want, '-D')));
  },
  remove: (o) => [...Array.from({ length: o.jumps }, () => cmd(jumpArgv(o, '-D'))), cmd([iptablesBin(o.family), '-t', o.table, '-F', o.chain]), cmd([iptablesBin(o.family), '-t', o.table, '-X', o.chain])],
  judge(_want, l) {
    const c = l as IptablesChain | undefined;
    if (!c) return CREATE;
    return c.jumps === 1 ? SAME : { t: 'update', fields: [{ field: 'jumps', before: c.jumps, after: 1 }] };
  },
  // A chain comes back with its rules; one without rules is kept explicitly.
  restore: (o, snapshot) => (snapshot.some((r) => r.kind === 'iptables' && r.family === o.family && r.chain === o.chain) ? undefined : o),
  inScope: (o, scope) => scope.chains.some((c) => c.family === o.family && c.chain === o.chain),
};
