// A figure written under /sys (netqos). Identity: its path. Written again when it differs;
// skipped where its directory is absent (its module is not loaded), as the boot script does.
import type { SysfsWrite } from '../model/types.js';
import type { LiveSysfs } from '../state/sysfs.js';
import { CREATE, SAME, sysfsWrite, type Kind } from './kind.js';
import { shq } from './quote.js';

export const sysfs: Kind<SysfsWrite> = {
  plural: 'sysfs files',
  address: (o) => `sysfs ${o.path}`,
  detail: (o) => `value ${o.value}`,
  commands: () => [],
  create: (o) => [sysfsWrite(o.path, o.value)],
  update: (want) => [sysfsWrite(want.path, want.value)],
  judge(want, l, ctx) {
    const s = l as LiveSysfs | undefined;
    if (!s) return CREATE;
    if (s.absent) {
      ctx.skipped(want.path);
      return SAME;
    }
    return s.value === want.value ? SAME : { t: 'update', fields: [{ field: 'value', before: s.value, after: want.value }] };
  },
  inScope: (o, scope) => scope.sysfs.includes(o.path),
  own: (o, owned) => void owned.sysfs.add(o.path),
  sh: {
    build(o, w) {
      const dir = o.path.slice(0, o.path.lastIndexOf('/'));
      w.emit(`if [ -d ${shq(dir)} ]; then printf '%s\\n' ${shq(o.value)} > ${shq(o.path)} || fail ${w.next()} ${shq(`write ${o.path}`)}; fi`);
    },
  },
  // No batch tool writes sysfs: a file of "path value" lines, for the sh format carries these.
  batch: (o, out) => void out.sysfs.push(`${o.path} ${o.value}`),
};
