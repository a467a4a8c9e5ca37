// rtnetlink link events from a long-lived `ip -o monitor link` child: one line per event,
// named by interface. A child that dies is started again (after a pause, so a broken `ip`
// cannot spin), and the caller is told, since events may have been missed meanwhile.
import { execa, type ResultPromise } from 'execa';

export interface LinkMonitor {
  stop(): void;
}

export interface MonitorHandlers {
  /** A link appeared, changed or was deleted. */
  onLink(name: string, deleted: boolean): void;
  /** The monitor (re)started: events before this moment may have been missed. */
  onStart(restarted: boolean, why?: string): void;
}

/**
 * `3: wan0: <BROADCAST,…> mtu 1500 …`, `Deleted 3: wan0@wan1: …`, `3: ppp0: …`; with
 * -o one line per message. The name ends at `@` (a veth's peer) or `:`.
 */
export function parseMonitorLine(line: string): { name: string; deleted: boolean } | undefined {
  const m = /^(Deleted\s+)?(?:\[[^\]]*\]\s*)?\d+:\s+([^\s:@]+)[@:]/.exec(line);
  return m ? { name: m[2]!, deleted: Boolean(m[1]) } : undefined;
}

export function startLinkMonitor(h: MonitorHandlers, restartMs = 1000): LinkMonitor {
  let child: ResultPromise | undefined;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;

  const start = (restarted: boolean, why?: string) => {
    if (stopped) return;
    const c = execa('ip', ['-o', 'monitor', 'link'], { buffer: false, reject: false, stdin: 'ignore', stderr: 'ignore' });
    child = c;
    let rest = '';
    c.stdout?.setEncoding('utf8');
    c.stdout?.on('data', (chunk: string) => {
      const lines = (rest + chunk).split('\n');
      rest = lines.pop() ?? '';
      for (const line of lines) {
        const ev = parseMonitorLine(line);
        if (ev) h.onLink(ev.name, ev.deleted);
      }
    });
    // `ip monitor` prints nothing when it starts: the spawn is the moment it listens.
    c.once('spawn', () => h.onStart(restarted, why));
    void c.then((r) => {
      if (stopped) return;
      const reason = r.failed ? (r.signal ? `killed by ${r.signal}` : `exit ${r.exitCode ?? '?'}`) : 'exit 0';
      timer = setTimeout(() => start(true, `ip monitor ended (${reason})`), restartMs);
    });
  };
  start(false);

  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
      child?.kill('SIGTERM');
    },
  };
}
