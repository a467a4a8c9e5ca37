// Link framing → a tc size table (tc-stab(8)) and PTM's derating.
//
// Named framings carry the per-packet overhead as cake and sqm-scripts give it, counted from
// the IP header. tc's size table counts from skb->len, which on an Ethernet device (and on an
// ifb after mirred) includes the 14-byte MAC header, so 14 comes off — except where there is
// no link header: a ppp* interface, and an imq device (IMQ queues the bare IP packet), where
// skb->len starts at the IP header. An explicit `overhead N` is passed to tc as written.
import type { Framing } from '../syntax/ast.js';
import type { Qdisc } from '../model/types.js';

type Layer = 'atm' | 'ptm' | 'ethernet';

export const NAMED_FRAMINGS: Record<string, { layer: Layer; overhead: number; mpu?: number }> = {
  'pppoe-llc': { layer: 'atm', overhead: 40 },
  'pppoe-vcmux': { layer: 'atm', overhead: 32 },
  'pppoa-llc': { layer: 'atm', overhead: 14 },
  'pppoa-vcmux': { layer: 'atm', overhead: 10 },
  'bridged-llc': { layer: 'atm', overhead: 32 },
  'bridged-vcmux': { layer: 'atm', overhead: 24 },
  'ipoa-llc': { layer: 'atm', overhead: 16 },
  'ipoa-vcmux': { layer: 'atm', overhead: 8 },
  'pppoe-ptm': { layer: 'ptm', overhead: 30 },
  'bridged-ptm': { layer: 'ptm', overhead: 22 },
  docsis: { layer: 'ethernet', overhead: 18, mpu: 64 },
};

const VLAN_TAG = 4;
const ETHERNET_HEADER = 14;
/** PTM (VDSL2) sends 64 payload bytes in 65: shape at 64/65 of the configured rates. */
export const PTM_DERATE = 64 / 65;

/** Whether skb->len includes a MAC header where the tree's qdisc sees it. */
const hasLinkHeader = (iface: string, shapedOn: string) => !/^ppp/.test(iface) && !/^imq/.test(shapedOn);

/** `iface`: the interface the framing belongs to; `shapedOn`: the device carrying the tree. */
export function sizeTable(framing: Framing | undefined, iface: string, shapedOn: string = iface): { stab?: Qdisc['stab']; derate: number } {
  if (!framing) return { derate: 1 };
  const named = framing.named ? NAMED_FRAMINGS[framing.named.text] : undefined;
  const layer: Layer = framing.linklayer?.kind ?? named?.layer ?? 'ethernet';
  let overhead = framing.overhead?.value ?? (named ? named.overhead - (hasLinkHeader(iface, shapedOn) ? ETHERNET_HEADER : 0) : 0);
  if (framing.vlan) overhead += VLAN_TAG;
  const mpu = framing.mpu?.value ?? named?.mpu ?? 0;
  const derate = layer === 'ptm' ? PTM_DERATE : 1;
  const given = framing.named || framing.overhead || framing.mpu || framing.linklayer || framing.vlan;
  if (!given) return { derate };
  return { stab: { linklayer: layer === 'atm' ? 'atm' : 'ethernet', overhead, mpu }, derate };
}

/** One full-sized frame (1514 bytes as HTB counts it) as the line carries it under `stab`. */
export function frameOnLine(stab: Qdisc['stab'] | undefined, frame = 1514): number {
  if (!stab) return frame;
  const bytes = Math.max(frame + stab.overhead, stab.mpu);
  return stab.linklayer === 'atm' ? Math.ceil(bytes / 48) * 53 : bytes;
}
