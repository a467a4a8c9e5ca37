// Steady UDP for kernel tests that count packets per class by the clock.
import type { Netns } from './netns.js';

/**
 * Sends `count` datagrams of 1000 bytes to 10.9.0.2:5060 from `ns`, one every `everyMs` by
 * the clock: a timer that fires late (a loaded machine) sends the ones that are due at once,
 * so the rate over the run holds.
 */
export const sendUdp = (ns: Netns, count: number, everyMs: number) =>
  ns.run(
    [
      process.execPath,
      '-e',
      `const s = require('dgram').createSocket('udp4'); const start = Date.now(); let n = 0;
     const t = setInterval(() => {
       const due = Math.min(${count}, Math.floor((Date.now() - start) / ${everyMs}) + 1);
       for (; n < due; n++) { const last = n === ${count} - 1; s.send(Buffer.alloc(1000), 5060, '10.9.0.2', () => last && s.close()); }
       if (n === ${count}) clearInterval(t);
     }, ${everyMs});`,
    ],
    { timeout: 60_000 },
  );
