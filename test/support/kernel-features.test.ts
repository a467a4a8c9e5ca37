// The kernel-feature probe answers both ways: a feature every kernel here has, and ones no
// kernel has.
import { describe, expect, it } from 'vitest';
import { kernelHas } from './kernel-features.js';
import { requireKernelTools } from './netns.js';

describe.skipIf(!requireKernelTools())('kernel feature probe', () => {
  it('finds htb and mirred, and not a qdisc, action or module that does not exist', async () => {
    expect(await kernelHas('qdisc htb')).toBe(true);
    expect(await kernelHas('action mirred')).toBe(true);
    expect(await kernelHas('qdisc nosuchqdisc')).toBe(false);
    expect(await kernelHas('action nosuchaction')).toBe(false);
    expect(await kernelHas('module nosuchmodule')).toBe(false);
  });
});
