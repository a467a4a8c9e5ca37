// Metrics by class name, scraped by a real Prometheus server (Debian's `prometheus`) in the
// router's namespace: a PromQL rate over the voice class's byte counter returns the rate
// the test sends through it; `promtool check metrics` finds the exposition clean.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isCI, requireKernelTools, withNetnsSet } from '../support/netns.js';
import { tempDir } from '../support/tmp.js';
import { sendUdp } from '../support/udp.js';
import { get, metric, sleep, startWatch, until } from './helpers.js';

const POLICY = `interface qw0 {
  egress rate 10mbit {
    class voice rate 1mbit ceil 2mbit { match udp dport 5060 }
    class rest rate 1mbit ceil 10mbit default
  }
}
`;

function prometheusTools(): boolean {
  const missing = ['prometheus', 'promtool'].filter((t) => spawnSync('sh', ['-c', `command -v ${t}`]).status !== 0);
  if (missing.length && isCI()) throw new Error(`metrics tests cannot run under CI: ${missing.join(', ')} missing (apt-get install prometheus; see .ci/run)`);
  return missing.length === 0;
}

describe.skipIf(!requireKernelTools() || !prometheusTools())('watch --metrics scraped by Prometheus (kernel)', () => {
  it("PromQL rate() over a class's byte counter is the rate sent through it; promtool check metrics is clean", () =>
    withNetnsSet(['router', 'peer'], async ({ router, peer }) => {
      await router.run(['ip', 'link', 'set', 'lo', 'up']);
      await router.veth('qw0', 'qw0p', { peer });
      await router.run(['ip', 'addr', 'add', '10.9.0.1/24', 'dev', 'qw0']);
      await peer.run(['ip', 'addr', 'add', '10.9.0.2/24', 'dev', 'qw0p']);
      const dir = tempDir('qp-prom-');
      const file = join(dir, 'site.pol');
      writeFileSync(file, POLICY);
      const w = startWatch(router, file, tempDir('qp-state-'), ['--metrics', '127.0.0.1:19751']);
      await w.waitFor((l) => l.event === 'apply');

      const exposition = await get(router, 'http://127.0.0.1:19751/metrics');
      expect(metric(exposition, 'qospolicy_class_rate_bytes{device="qw0",classid="1:43ed",class="qw0 egress/voice"}')).toBe(1e6 / 8);
      expect(metric(exposition, 'qospolicy_applies_total')).toBe(1);
      const lint = spawnSync('promtool', ['check', 'metrics'], { input: exposition, encoding: 'utf8' });
      expect(lint.stdout + lint.stderr).toBe('');
      expect(lint.status).toBe(0);

      writeFileSync(
        join(dir, 'prometheus.yml'),
        `global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n  - job_name: qospolicy\n    static_configs:\n      - targets: ['127.0.0.1:19751']\n`,
      );
      // Prometheus runs until the namespace is removed (its processes are killed then).
      void router
        .run(['prometheus', `--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, '--web.listen-address=127.0.0.1:19752'], { reject: false, timeout: 600_000 })
        .catch(() => {});
      await until(async () => (await get(router, 'http://127.0.0.1:19752/-/ready')) !== '', 60_000, 250);

      // 1 mbit/s (1000-byte datagrams every 8 ms) for 12 s; voice may send up to 2 mbit.
      const sending = sendUdp(router, 1500, 8);
      await sleep(9000);
      const q = encodeURIComponent('rate(qospolicy_class_bytes_total{class="qw0 egress/voice"}[5s]) * 8');
      const answer = JSON.parse(await get(router, `http://127.0.0.1:19752/api/v1/query?query=${q}`)) as {
        status: string;
        data: { result: Array<{ metric: Record<string, string>; value: [number, string] }> };
      };
      await sending;
      expect(answer.status).toBe('success');
      expect(answer.data.result).toHaveLength(1);
      const r = answer.data.result[0]!;
      expect(r.metric).toMatchObject({ device: 'qw0', classid: '1:43ed', class: 'qw0 egress/voice', job: 'qospolicy' });
      const bps = Number(r.value[1]);
      // IP datagrams of 1028 bytes (1000 + UDP + IP headers) plus Ethernet's 14: ~1.04 mbit/s.
      console.log(`PromQL rate of qw0 egress/voice: ${(bps / 1e6).toFixed(3)} mbit/s (sent 1.0 mbit/s of payload)`);
      // rate() over five 1 s scrapes extrapolates to the window's edges, and a late scrape on a
      // busy machine moves it further (0.83 once in a full run): a wrong unit (×8) or a wrong
      // class (0) is still far outside.
      expect(bps).toBeGreaterThan(0.6e6);
      expect(bps).toBeLessThan(1.25e6);
      await w.stop();
    }), 180_000);
});
