import { classId } from '../model/index.js';
import { addUnmodeled, type LiveClass } from './live.js';
import { parseRate, parseSize } from '../kernel/units.js';
import { normClassid } from '../kernel/handles.js';

/**
 * The htb classes of one device from `tc -d class show dev DEV` (text: iproute2 6.1's
 * `tc -j class show` prints plain text for htb, so there is no JSON to read).
 *
 *   class htb 1:a3 parent 1:1 leaf a3: prio 3 quantum 1514 rate 20Mbit ceil 1Gbit
 *     linklayer ethernet burst 1600b/1 mpu 0b cburst 1375b/1 mpu 0b level 0
 *
 * - parent: the parent classid, or the qdisc handle (`1:`) for `root`.
 * - rate/ceil in bit/s, burst/cburst in bytes, exactly as tc shows them (see readback.ts
 *   for what the kernel and tc's printing do to a requested value).
 * - tc prints `prio` and `quantum` only for leaves (level 0): htb uses neither on inner
 *   classes. Inner classes get prio 0 and quantum 0; `expectedReadback` does the same
 *   to desired inner classes, so the two compare equal.
 * - Classes of other qdisc kinds are skipped: they come and go with their (foreign) qdisc.
 * - linklayer other than ethernet, overhead, mpu and offload go to `unmodeled`.
 */
export function parseClasses(dev: string, text: string): LiveClass[] {
  // A tree's classes mostly share a few rates and sizes: read each spelling once.
  const read: Readers = { rate: memo(parseRate), size: memo(parseSize) };
  const out: LiveClass[] = [];
  for (const line of text.split('\n')) {
    const c = plainClass(dev, line, read) ?? tokenClass(dev, line, read);
    if (c) out.push(c);
  }
  return out;
}

interface Readers {
  rate: (text: string) => number;
  size: (text: string) => number;
}

/** A class line of the usual shape, by one pattern (PLAIN_LINE); undefined for any other line. */
function plainClass(dev: string, line: string, read: Readers): LiveClass | undefined {
  const plain = PLAIN_LINE.exec(line);
  if (!plain) return undefined;
  const classid = normClassid(plain[1]!);
  const level = Number(plain[9]);
  return {
    kind: 'class',
    id: classId(dev, classid),
    dev,
    classid,
    parent: plain[2] === undefined ? `${classid.split(':')[0]}:` : normClassid(plain[2]),
    rate: read.rate(plain[5]!),
    ceil: read.rate(plain[6]!),
    prio: level > 0 || plain[3] === undefined ? 0 : Number(plain[3]),
    quantum: level > 0 || plain[4] === undefined ? 0 : Number(plain[4]),
    burst: read.size(plain[7]!),
    cburst: read.size(plain[8]!),
  };
}

/** Any htb class line, token by token; what the model lacks goes to `unmodeled`. */
function tokenClass(dev: string, line: string, read: Readers): LiveClass | undefined {
  const tokens = line.trim().split(/\s+/);
  if (tokens[0] !== 'class' || tokens[1] !== 'htb' || tokens[2] === undefined) return undefined;
  const classid = normClassid(tokens[2]);
  const c: LiveClass = { kind: 'class', id: classId(dev, classid), dev, classid, parent: `${classid.split(':')[0]}:`, rate: 0, ceil: 0, prio: 0, quantum: 0, burst: 0, cburst: 0 };
  let level = 0;
  for (let i = 3; i < tokens.length; i++) {
    const key = tokens[i]!;
    const val = tokens[i + 1] ?? '';
    switch (key) {
      case 'root':
        continue;
      case 'offload':
        addUnmodeled(c, 'offload', 'offload');
        continue;
      case 'parent':
        c.parent = normClassid(val);
        break;
      case 'leaf':
        break;
      case 'prio':
        c.prio = Number(val);
        break;
      case 'quantum':
        c.quantum = Number(val);
        break;
      case 'rate':
      case 'ceil':
        c[key] = read.rate(val);
        break;
      case 'burst':
      case 'cburst':
        c[key] = read.size(val);
        break;
      case 'level':
        level = Number(val);
        break;
      case 'linklayer':
        if (val !== 'ethernet') addUnmodeled(c, 'linklayer', val);
        break;
      case 'overhead':
        if (val !== '0') addUnmodeled(c, 'overhead', val);
        break;
      case 'mpu':
        if (read.size(val) !== 0) addUnmodeled(c, 'mpu', val);
        break;
      default:
        addUnmodeled(c, key, val);
    }
    i++; // consumed the value
  }
  // htb uses neither prio nor quantum on inner classes, and tc prints them only for leaves.
  if (level > 0) {
    c.prio = 0;
    c.quantum = 0;
  }
  return c;
}

/**
 * The line of a class with nothing the model lacks, in tc's order, read by one pattern:
 * a thousand lines cost a fraction of splitting each into tokens. Any other line goes
 * through the tokens above, which read these the same.
 */
const PLAIN_LINE = /^class htb (\S+) (?:root|parent (\S+)) (?:leaf \S+ )?(?:prio (\d+) quantum (\d+) )?rate (\S+) ceil (\S+) linklayer ethernet burst (\S+) mpu 0b cburst (\S+) mpu 0b level (\d+) ?$/;

function memo(parse: (text: string) => number): (text: string) => number {
  const seen = new Map<string, number>();
  return (text) => {
    let v = seen.get(text);
    if (v === undefined) seen.set(text, (v = parse(text)));
    return v;
  };
}
