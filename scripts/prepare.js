// npm's `prepare`: `npm install` in a clone builds the CLI, so that `npx qospolicy` runs. npm
// also runs prepare on `npm pack` and `npm publish`, right after `prepack`, which has just
// built: skip the second build there. (An install from the tarball runs neither: the bundle
// is in it.)
import { spawnSync } from 'node:child_process';

if (!['pack', 'publish'].includes(process.env.npm_command ?? '')) {
  process.exitCode = spawnSync('npm', ['run', 'build'], { stdio: 'inherit' }).status ?? 1;
}
