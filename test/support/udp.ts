// Steady UDP for kernel tests that count packets per class by the clock.
import type { Netns } from './netns.js';

export interface UdpOptions {
  /** Destinations, sent to in turn (datagram n goes to to[n % to.length]); default 10.9.0.2:5060. */
  to?: Array<{ addr: string; port: number }>;
  /** Payload bytes (default 1000). */
  size?: number;
}

/**
 * Sends `count` datagrams from `ns`, one every `everyMs` by the clock (a fraction of a
 * millisecond sends several per timer tick): a timer that fires late (a loaded machine)
 * sends the ones that are due at once, so the rate over the run holds. With `to`, each
 * destination gets count / to.length of them when count is a multiple. A send that fails
 * fails the run (its exit status), so a count is never silently short.
 */
export const sendUdp = (ns: Netns, count: number, everyMs: number, opts: UdpOptions = {}) =>
  ns.run(
    [
      process.execPath,
      '-e',
      `const s = require('dgram').createSocket('udp4'); const start = Date.now(); let n = 0; let left = ${count};
     const to = ${JSON.stringify(opts.to ?? [{ addr: '10.9.0.2', port: 5060 }])}; const payload = Buffer.alloc(${opts.size ?? 1000});
     const t = setInterval(() => {
       const due = Math.min(${count}, Math.floor((Date.now() - start) / ${everyMs}) + 1);
       for (; n < due; n++) { const d = to[n % to.length]; s.send(payload, d.port, d.addr, (e) => { if (e) { console.error(e.message); process.exit(1); } if (--left === 0) s.close(); }); }
       if (n === ${count}) clearInterval(t);
     }, Math.max(1, ${everyMs}));`,
    ],
    { timeout: 120_000 },
  );
