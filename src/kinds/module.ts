// A kernel module and its parameters. Identity: its name. Loaded when its devices come only
// from loading it (imq); parameters writable at run time are written under /sys/module,
// load-time ones need a reload that qospolicy never does (a manual change). Never removed.
import type { ModuleLoad } from '../model/types.js';
import { cmd, CREATE, SAME, sysfsWrite, type JudgeContext, type Kind, type PlanObject, type ShWriter, type Verdict } from './kind.js';
import { link } from './link.js';
import { shq } from './quote.js';

export const moduleParamPath = (module: string, param: string) => `/sys/module/${module}/parameters/${param}`;

const modprobeArgv = (o: ModuleLoad) => ['modprobe', o.module, ...Object.entries(o.params).map(([k, v]) => `${k}=${v}`)];

function judgeModule(want: ModuleLoad, live: PlanObject | undefined, ctx: JudgeContext): Verdict {
  const l = live as ModuleLoad | undefined;
  if (!l) {
    // The kernel loads a link driver itself for `ip link add … type ifb` (and ifb is often
    // built in, without a /sys/module entry): its load-time options only matter for
    // /etc/modprobe.d. Modules whose devices come only from loading them (imq) are loaded.
    const autoloaded = !want.runtime && ctx.desired.some((o) => o.kind === 'link' && o.type === want.module && link.commands(o)[0]?.[2] === 'add');
    return autoloaded ? SAME : CREATE;
  }
  // Only parameters the module shows in sysfs can be compared (ifb's numifbs, imq's numdevs are hidden).
  const fields = Object.entries(want.params)
    .filter(([k, v]) => k in l.params && l.params[k] !== v)
    .map(([k, v]) => ({ field: k, before: l.params[k], after: v }));
  if (fields.length === 0) return SAME;
  if (want.runtime) return { t: 'update', fields };
  const args = Object.entries(want.params).map(([k, v]) => `${k}=${v}`).join(' ');
  return {
    t: 'update',
    fields,
    manual: `its parameters take effect only when it is loaded: reload it (modprobe -r ${want.module} && modprobe ${want.module} ${args}); unloading it removes its devices, so qospolicy does not do it`,
  };
}

function shModule(o: ModuleLoad, w: ShWriter): void {
  const argv = modprobeArgv(o);
  if (!o.runtime) {
    // Not fatal: built-in modules often cannot be modprobed (no modules.builtin), and a
    // module that is really missing makes the next step (`ip link add …`) fail by name.
    w.emit(`[ -d ${shq(`/sys/module/${o.module}`)} ] || quiet ${w.words(argv)}`);
    return;
  }
  // Loaded already: its parameters are writable at run time, effective from the next frame.
  const dir = `/sys/module/${o.module}/parameters`;
  w.emit(`if [ -d ${shq(dir)} ]; then`);
  for (const [k, v] of Object.entries(o.params)) w.emit(`  printf '%s\\n' ${shq(String(v))} > ${shq(`${dir}/${k}`)} || fail ${w.next()} ${shq(`write ${dir}/${k}`)}`);
  w.emit('else');
  w.emit(`  run ${w.next()} ${w.words(argv)}`);
  w.emit('fi');
}

export const moduleLoad: Kind<ModuleLoad> = {
  plural: 'modules',
  address: (o) => `module ${o.module}`,
  detail: (o) => Object.entries(o.params).map(([k, v]) => `${k}=${v}`).join(' ') || '(no parameters)',
  commands: (o) => [modprobeArgv(o)],
  create: (o) => [cmd(modprobeArgv(o))],
  update(want, _live, fields) {
    if (!want.runtime) throw new Error(`no in-place change for module ${want.id}`);
    return fields.map((f) => sysfsWrite(moduleParamPath(want.module, f.field), String(want.params[f.field])));
  },
  judge: judgeModule,
  inScope: (o, scope) => scope.modules.includes(o.module),
  // Runtime parameters read back from sysfs; load-time ones are not visible there.
  assumed: (o) => ({ ...structuredClone(o), params: o.runtime ? { ...o.params } : {} }),
  own: (o, owned) => void owned.modules.add(o.module),
  sh: { devices: shModule },
  batch: (o, out) => void out.modprobe.push(`options ${o.module} ${Object.entries(o.params).map(([k, v]) => `${k}=${v}`).join(' ')}`),
};
