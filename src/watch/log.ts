// One line per event, for journald or a log collector: plain text or JSON objects.
import { printable } from '../diagnostics/text.js';

export type LogFormat = 'plain' | 'json';

export interface LogEvent {
  /** What happened: start, apply, repair, wait, reload, refused, failed, lock, monitor, warning, stop. */
  event: string;
  message: string;
  /** How long it took. */
  ms?: number;
  /** Anything else a collector may filter on (changes, interfaces…). */
  [field: string]: unknown;
}

export type Log = (e: LogEvent) => void;

export function makeLog(format: LogFormat, write: (line: string) => void, now = () => new Date()): Log {
  return (e) => {
    const time = now().toISOString();
    if (format === 'json') {
      write(JSON.stringify({ time, ...e }) + '\n');
      return;
    }
    // A multi-line message (diagnostics) stays one line: its newlines are shown as ⏎.
    const ms = e.ms === undefined ? '' : ` (${Math.round(e.ms)} ms)`;
    write(`${time} ${e.event}: ${printable(e.message.replace(/\n+/g, ' ⏎ '))}${ms}\n`);
  };
}
