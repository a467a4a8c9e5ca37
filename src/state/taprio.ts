// taprio as the reader shows it (tc-taprio(8); recorded in the kernel lab: lab-v2.qdisc.json).
// The compiler writes taprio's command-line arguments; `tc -j qdisc show` prints the same
// schedule in other words: num_tc → tc, queues `1@0 1@1 2@2` → [{offset, count}…],
// clockid CLOCK_TAI → TAI, sched-entry `S 01 300000` → {index, cmd, gatemask "0x1",
// interval}, cycle-time defaulting to the sum of the intervals, cycle_time_extension 0.

/** Desired taprio params (tc arguments) → the params parseQdiscs reads back. */
export function taprioReadback(params: Array<[string, string]>): Array<[string, string]> {
  const get = (k: string) => params.find(([key]) => key === k)?.[1];
  const entries = params.filter(([k]) => k === 'sched-entry').map(([, v]) => v.split(/\s+/));
  const schedule = entries.map(([cmd, mask, interval], index) => ({ index, cmd, gatemask: `0x${parseInt(mask ?? '0', 16).toString(16)}`, interval: Number(interval) }));
  const queues = (get('queues') ?? '')
    .split(/\s+/)
    .filter(Boolean)
    .map((q) => {
      const [count, offset] = q.split('@').map(Number);
      return { offset, count };
    });
  const cycle = get('cycle-time') ?? String(schedule.reduce((s, e) => s + e.interval, 0));
  const out: Array<[string, string]> = [];
  const num = get('num_tc');
  if (num !== undefined) out.push(['tc', String(Number(num))]);
  const map = get('map');
  if (map !== undefined) out.push(['map', map.split(/\s+/).map(Number).join(' ')]);
  out.push(['queues', JSON.stringify(queues)]);
  const clock = get('clockid');
  if (clock !== undefined) out.push(['clockid', clock.replace(/^CLOCK_/, '')]);
  out.push(['base_time', String(Number(get('base-time') ?? '0'))]);
  out.push(['cycle_time', String(Number(cycle))]);
  out.push(['cycle_time_extension', String(Number(get('cycle-time-extension') ?? '0'))]);
  out.push(['schedule', JSON.stringify(schedule)]);
  return out;
}
