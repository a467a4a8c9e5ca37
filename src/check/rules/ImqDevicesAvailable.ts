// QP2016: IMQ has at most 16 devices (module parameter numdevs 2–16; `--todev` 0–15).
// Every tree that queues through IMQ needs one: interface ingress trees whose effective
// backend is imq, and every shared group when the target's ingress backend is imq.
import { diag } from '../../diagnostics/diagnostic.js';
import type { Tree } from '../../syntax/ast.js';
import type { Rule } from '../rule.js';
import { treeLabel } from '../walk.js';
import { treeHeader } from '../util.js';

const IMQ_MAX_DEVICES = 16;

export const ImqDevicesAvailable: Rule = {
  name: 'ImqDevicesAvailable',
  run({ policy, settings, report }) {
    const users: Tree[] = [];
    for (const i of policy.interfaces) {
      if (i.ingress && (i.ingress.backend ?? settings.ingress) === 'imq') users.push(i.ingress);
    }
    if (settings.ingress === 'imq') for (const s of policy.shared) users.push(s.tree);
    if (users.length <= IMQ_MAX_DEVICES) return;
    users.sort((a, b) => a.span.start.offset - b.span.start.offset);
    const extra = users[IMQ_MAX_DEVICES];
    report(
      diag(
        'QP2016',
        `this policy needs ${users.length} IMQ devices, one per tree queued through IMQ; IMQ has at most ${IMQ_MAX_DEVICES} (imq0–imq15), and ${treeLabel(extra)} is the ${IMQ_MAX_DEVICES + 1}th`,
        treeHeader(extra),
        {
          related: [{ span: treeHeader(users[0]), message: `${treeLabel(users[0])} takes imq0` }],
          hint: 'use ifb for some ingress trees (`ingress ifb rate …`), or hold several interfaces under one shared group',
        },
      ),
    );
  },
};
