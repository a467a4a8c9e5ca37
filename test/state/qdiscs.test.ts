import { describe, expect, it } from 'vitest';
import { parseQdiscs } from '../../src/state/index.js';
import { fixture } from './fixture.js';

describe('parseQdiscs', () => {
  it('reads an htb root with default and r2q, fifo leaves and an ingress qdisc (v0)', () => {
    expect(parseQdiscs('v0', fixture('v0.qdisc.json'))).toEqual([
      { kind: 'qdisc', id: 'qdisc/v0/root', dev: 'v0', parent: 'root', handle: '1:', qdisc: 'htb', params: [['default', 'a3'], ['r2q', '20']] },
      { kind: 'qdisc', id: 'qdisc/v0/1:10', dev: 'v0', parent: '1:10', handle: '10:', qdisc: 'bfifo', params: [['limit', '30000']] },
      { kind: 'qdisc', id: 'qdisc/v0/1:a3', dev: 'v0', parent: '1:a3', handle: 'a3:', qdisc: 'pfifo', params: [['limit', '100']] },
      // no limit given: pfifo takes the device's txqueuelen
      { kind: 'qdisc', id: 'qdisc/v0/1:20', dev: 'v0', parent: '1:20', handle: '20:', qdisc: 'pfifo', params: [['limit', '1000']] },
      { kind: 'qdisc', id: 'qdisc/v0/ingress', dev: 'v0', parent: 'ingress', handle: 'ffff:', qdisc: 'ingress', params: [] },
    ]);
  });

  it('reads clsact as the ingress hook and leaves out the default root qdisc (v1: noqueue 0:)', () => {
    expect(parseQdiscs('v1', fixture('v1.qdisc.json'))).toEqual([
      { kind: 'qdisc', id: 'qdisc/v1/ingress', dev: 'v1', parent: 'ingress', handle: 'ffff:', qdisc: 'clsact', params: [] },
    ]);
  });

  it('drops r2q when it is the default 10 and reads default 0', () => {
    const json = '[{"kind":"htb","handle":"1:","root":true,"refcnt":3,"options":{"r2q":10,"default":"0","direct_packets_stat":1,"ver":"3.17","direct_qlen":50}}]';
    expect(parseQdiscs('v0', json)[0]!.params).toEqual([['default', '0']]);
  });

  it('keeps a qdisc kind the model lacks and its size table, marked unmodeled (ifb1: tbf with stab)', () => {
    expect(parseQdiscs('ifb1', fixture('ifb1.qdisc.json'))).toEqual([
      {
        kind: 'qdisc',
        id: 'qdisc/ifb1/root',
        dev: 'ifb1',
        parent: 'root',
        handle: '5:',
        qdisc: 'tbf',
        params: [
          ['rate', '125000'],
          ['burst', '10Kb/1'],
          ['mpu', '0'],
          ['lat', '50000'],
          ['linklayer', 'ethernet'],
        ],
        unmodeled: [
          ['qdisc', 'tbf'],
          ['stab', 'linklayer atm overhead 44 mtu 2048 tsize 512'],
        ],
      },
    ]);
  });
});
