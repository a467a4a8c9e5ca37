import { describe, expect, it } from 'vitest';
import { parseClassCounters } from '../../src/state/index.js';

// `tc -s class show dev v0` (iproute2 6.1): an htb tree, one class with a queue, and an
// mq class (no major) that is skipped.
const TEXT = `class htb 1:d533 parent 1:1 leaf d533: prio 7 rate 1Mbit ceil 10Mbit burst 1725b cburst 67133b 
 Sent 496 bytes 6 pkt (dropped 0, overlimits 0 requeues 0) 
 backlog 0b 0p requeues 0
 lended: 6 borrowed: 0 giants: 0
 tokens: 206875 ctokens: 838312

class htb 1:1 root rate 10Mbit ceil 10Mbit burst 2850b cburst 67133b 
 Sent 123456789012 bytes 98765432 pkt (dropped 12, overlimits 3456 requeues 0) 
 backlog 0b 0p requeues 0
 lended: 0 borrowed: 0 giants: 0
 tokens: 34750 ctokens: 838312

class htb 1:43ed parent 1:1 leaf 43ed: prio 7 rate 1Mbit ceil 2Mbit burst 1725b cburst 67136b 
 Sent 4542000 bytes 3000 pkt (dropped 41, overlimits 2210 requeues 0) 
 backlog 12Kb 8p requeues 0
 lended: 0 borrowed: 0 giants: 0
 tokens: -215625 ctokens: 4196000

class mq :1 root 
 Sent 10 bytes 1 pkt (dropped 0, overlimits 0 requeues 0) 
 backlog 0b 0p requeues 0
`;

describe('parseClassCounters', () => {
  it('reads sent, dropped, overlimits and backlog per classid; skips classes without a major', () => {
    const c = parseClassCounters(TEXT);
    expect([...c.keys()]).toEqual(['1:d533', '1:1', '1:43ed']);
    expect(c.get('1:d533')).toEqual({ bytes: 496, packets: 6, drops: 0, overlimits: 0, backlogBytes: 0, backlogPackets: 0 });
    expect(c.get('1:1')).toMatchObject({ bytes: 123456789012, packets: 98765432, drops: 12, overlimits: 3456 });
    expect(c.get('1:43ed')).toEqual({ bytes: 4542000, packets: 3000, drops: 41, overlimits: 2210, backlogBytes: 12 * 1024, backlogPackets: 8 });
  });
  it('an empty listing is no classes', () => {
    expect(parseClassCounters('').size).toBe(0);
  });
});
