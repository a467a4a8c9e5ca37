// Watch: keep a policy applied on a running router (link events, drift, SIGHUP) and
// expose its classes' counters to Prometheus.
export { watch, type WatchOptions, type Loaded } from './watch.js';
export { reconcile, presentOnly, type Policy, type Outcome } from './reconcile.js';
export { exposition, parseListen, classLabel, type ReconcileCounters } from './metrics.js';
export { parseMonitorLine } from './monitor.js';
export { makeLog, type Log, type LogFormat } from './log.js';
