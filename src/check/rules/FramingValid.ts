// QP2026: a link's framing is given once: a named framing sets overhead and link layer
// itself, so `overhead`/`atm`/`ptm` beside it contradict or repeat it; values must fit the
// size table (tc-stab(8)). QP3008: `exact` (gso_max_segs 1) makes the router's own TCP
// leave in single segments on egress; forwarded packets merged by GRO on their way in are
// queued whole, and only disabling GRO on the ports they arrive by would split them.
import { diag } from '../../diagnostics/diagnostic.js';
import type { Rule } from '../rule.js';

export const FramingValid: Rule = {
  name: 'FramingValid',
  run({ policy, report }) {
    for (const iface of policy.interfaces) {
      const f = iface.link?.framing;
      if (!f) continue;
      if (f.named) {
        for (const [what, given] of [['overhead', f.overhead], ['mpu', f.mpu], ['the link layer', f.linklayer]] as const) {
          if (!given) continue;
          report(
            diag('QP2026', `'${f.named.text}' already sets ${what}`, given.span, {
              related: [{ span: f.named.span, message: 'named framing here' }],
              hint: `drop one of them: a named framing or explicit overhead/mpu/atm`,
            }),
          );
        }
      }
      if (f.overhead && !(Number.isInteger(f.overhead.value) && f.overhead.value >= -64 && f.overhead.value <= 256)) {
        report(diag('QP2026', `overhead ${f.overhead.value} is outside -64…256 bytes`, f.overhead.span));
      }
      if (f.mpu && !(Number.isInteger(f.mpu.value) && f.mpu.value >= 0 && f.mpu.value <= 2047)) {
        report(diag('QP2026', `mpu ${f.mpu.value} is outside 0…2047 bytes`, f.mpu.span));
      }
      if (f.exact && !iface.egress) {
        report(
          diag('QP3008', `'exact' on ${iface.name.text} has no effect: it limits the segments of the router's own packets sent on ${iface.name.text}, which has no egress tree`, f.exact, {
            hint: `for ingress accounting disable GRO on ${iface.name.text} (ethtool -K ${iface.name.text} gro off)`,
          }),
        );
      }
    }
  },
};
