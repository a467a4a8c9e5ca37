import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
// @ts-expect-error plain JavaScript (bin/), no declarations
import { CODE_CACHE, loadCli } from '../../bin/load.js';

// The bundle and its code cache are made by `npm run build` (npm test builds first).
describe('the bundled CLI', () => {
  it('loads with the code cache the build made (V8 accepts it only under the same flags)', () => {
    expect(existsSync(CODE_CACHE)).toBe(true);
    const { cli, script } = loadCli();
    expect(script.cachedDataRejected).toBe(false);
    expect(typeof cli.main).toBe('function');
  });
});
