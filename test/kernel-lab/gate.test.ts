// The kernel lab's decisions that need no VM: when a missing prerequisite skips or fails,
// and how the build scripts' output is read.
import { describe, expect, it, vi } from 'vitest';
import { labGate, parseEnv, shq } from './vm.js';

describe('labGate', () => {
  it('lets the tests run when the lab is ready', () => {
    const ready = { ok: true as const, ms: 1, paths: {} as never };
    expect(labGate(ready, true)).toBe(true);
    expect(labGate(ready, false)).toBe(true);
  });
  it('fails under CI when a prerequisite is missing, saying which', () => {
    expect(() => labGate({ ok: false, reason: 'qemu-system-x86_64 is missing' }, true)).toThrow(/kernel lab cannot run under CI: qemu-system-x86_64 is missing/);
  });
  it('skips outside CI, with a message', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    expect(labGate({ ok: false, reason: 'no network to the Debian registry' }, false)).toBe(false);
    expect(warn).toHaveBeenCalledWith(expect.stringMatching(/kernel lab skipped.*no network to the Debian registry/));
    warn.mockRestore();
  });
});

describe('parseEnv', () => {
  it('reads KEY=VALUE lines and ignores the rest', () => {
    expect(parseEnv('noise\nQLAB_KVER=6.1.0-56-amd64\nQLAB_HEADERS=\n  QLAB_X=a=b  \nlower=no\n')).toEqual({
      QLAB_KVER: '6.1.0-56-amd64',
      QLAB_HEADERS: '',
      QLAB_X: 'a=b',
    });
  });
});

describe('shq', () => {
  it('quotes words for sh, single quotes included', () => {
    expect(shq("/tmp/it's here")).toBe(`'/tmp/it'\\''s here'`);
  });
});
