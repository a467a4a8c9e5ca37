// Identity keys of kernel objects. The compiler and the live-state reader both build ids
// here, so the same kernel object always gets the same key.

export const linkId = (name: string) => `link/${name}`;
export const moduleId = (module: string) => `module/${module}`;
/** parent: 'root', 'ingress' (the ingress or clsact hook) or a parent classid. */
export const qdiscId = (dev: string, parent: string) => `qdisc/${dev}/${parent}`;
export const classId = (dev: string, classid: string) => `class/${dev}/${classid}`;
export const filterId = (dev: string, parent: string, prio: number) => `filter/${dev}/${parent}/${prio}`;
/** A hash bucket's node: its filter's id and its handle (`3a:1f:801`). */
export const nodeId = (dev: string, parent: string, prio: number, handle: string) => `${filterId(dev, parent, prio)}/${handle}`;
export const iptablesId = (family: 4 | 6, chain: string, args: string[]) => `iptables/${family}/${chain}/${args.join(' ')}`;
export const sysfsId = (path: string) => `sysfs/${path}`;
