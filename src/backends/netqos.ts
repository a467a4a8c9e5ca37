// netqos NIC-selection figures: /sys/kernel/netqos/figures/<figure>/<ifname>, decimal,
// in the module's units (bw kbit/s, delay and jitter ms, price as given).
import type { InterfaceBlock } from '../syntax/ast.js';
import type { SysfsWrite } from '../model/types.js';
import { sysfsId } from '../model/ids.js';

export const NETQOS_ROOT = '/sys/kernel/netqos/figures';

export function netqosWrites(iface: InterfaceBlock): SysfsWrite[] {
  const dev = iface.name.text;
  const f = iface.figures;
  const figures: Array<[string, number | undefined]> = [
    ['bw', iface.link?.up ? Math.round(iface.link.up.bps / 1000) : undefined],
    ['delay', f.delay ? Math.round(f.delay.ns / 1e6) : undefined],
    ['jitter', f.jitter ? Math.round(f.jitter.ns / 1e6) : undefined],
    ['price', f.price?.value],
  ];
  // bw alone comes from `link`, which every shaped interface has: write figures only
  // when the operator gave netqos figures at all.
  if (!f.delay && !f.jitter && f.price === undefined) return [];
  return figures
    .filter((x): x is [string, number] => x[1] !== undefined)
    .map(([figure, value]) => {
      const path = `${NETQOS_ROOT}/${figure}/${dev}`;
      return { kind: 'sysfs', id: sysfsId(path), origin: { path: `${dev} netqos ${figure}` }, path, value: String(value) };
    });
}
