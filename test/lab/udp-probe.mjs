// A UDP round-trip probe for the latency lab (run with `ip netns exec NS node udp-probe.mjs`).
//   echo PORT                       answer every datagram to its sender
//   probe HOST PORT COUNT INTERVAL_MS   send COUNT datagrams on a fixed schedule (absolute
//                                   deadlines, so a late timer does not stretch the run),
//                                   print one JSON array of round trips in ms (null: lost)
import dgram from 'node:dgram';

const [mode, ...args] = process.argv.slice(2);
if (mode === 'echo') {
  const s = dgram.createSocket(args[0].includes(':') ? 'udp6' : 'udp4');
  s.on('message', (msg, from) => s.send(msg, from.port, from.address));
  s.bind(Number(args[0]), () => console.log('listening'));
} else if (mode === 'probe') {
  const [host, port, count, interval] = [args[0], Number(args[1]), Number(args[2]), Number(args[3])];
  const s = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4');
  const sent = new Map();
  const rtts = new Array(count).fill(null);
  s.on('message', (msg) => {
    const seq = msg.readUInt32BE(0);
    const t = sent.get(seq);
    if (t !== undefined) rtts[seq] = Number(process.hrtime.bigint() - t) / 1e6;
  });
  const start = performance.now();
  let seq = 0;
  const tick = () => {
    const buf = Buffer.alloc(64);
    buf.writeUInt32BE(seq, 0);
    sent.set(seq, process.hrtime.bigint());
    s.send(buf, port, host);
    seq++;
    if (seq < count) setTimeout(tick, Math.max(0, start + seq * interval - performance.now()));
    else setTimeout(() => (console.log(JSON.stringify(rtts)), s.close()), 2000);
  };
  tick();
} else {
  console.error('usage: udp-probe.mjs echo PORT | probe HOST PORT COUNT INTERVAL_MS');
  process.exit(2);
}
