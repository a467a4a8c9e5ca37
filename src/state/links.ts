import { LINK_SETTINGS, linkId, type Link } from '../model/index.js';
import { JsonObject, parseJsonLenient } from './json.js';

/** A network device as `ip -j -d link show` shows it. */
export interface LiveLink extends Link {
  /** Administratively up (the UP flag): a down ifb/imq device passes no traffic. */
  up: boolean;
  txQueues: number;
  /** The link kind (`linkinfo.info_kind`: ifb, imq, veth, vlan…); absent for physical NICs. */
  driver?: string;
}

/**
 * Devices from `ip -j -d link show`. `type` is `ifb`/`imq` for devices of those drivers,
 * `require` for every other device (an interface qospolicy needs but does not create).
 */
export function parseLinks(jsonText: string): LiveLink[] {
  const list = parseJsonLenient(jsonText);
  if (!Array.isArray(list)) throw new Error('ip link show: expected a JSON array');
  const out: LiveLink[] = [];
  for (const e of list) {
    if (!(e instanceof JsonObject)) continue;
    const name = e.str('ifname');
    if (!name) continue;
    const flags = e.get('flags');
    const driver = e.obj('linkinfo')?.str('info_kind');
    const link: LiveLink = {
      kind: 'link',
      id: linkId(name),
      name,
      type: driver === 'ifb' || driver === 'imq' ? driver : 'require',
      up: Array.isArray(flags) && flags.includes('UP'),
      txQueues: e.num('num_tx_queues') ?? 1,
    };
    for (const [field, key] of LINK_SETTINGS) {
      const v = e.num(key);
      if (v !== undefined) link[field] = v;
    }
    if (driver) link.driver = driver;
    out.push(link);
  }
  return out;
}
