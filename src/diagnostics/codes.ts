// The registry of diagnostic codes. Codes are stable: never renumber, only add.
// QP1xxx: lexing and syntax; QP2xxx: semantic errors; QP3xxx: warnings; QP4xxx: I/O and usage.
import type { Severity } from './diagnostic.js';

interface CodeInfo {
  severity: Severity;
  title: string;
}

export const CODES = {
  QP1001: { severity: 'error', title: 'unexpected character' },
  QP1002: { severity: 'error', title: 'syntax error' },
  QP1003: { severity: 'error', title: 'unknown keyword' },
  QP1004: { severity: 'error', title: 'unbalanced braces' },
  QP1005: { severity: 'error', title: 'byte-per-second unit' },
  QP1006: { severity: 'error', title: 'unknown or wrong unit' },
  QP1007: { severity: 'error', title: 'statement not allowed here' },
  QP1008: { severity: 'error', title: 'setting given twice' },
  QP1009: { severity: 'error', title: 'required setting missing' },
  QP1010: { severity: 'error', title: 'include failed' },
  QP1011: { severity: 'error', title: 'unknown name' },
  QP1012: { severity: 'error', title: 'blocks nested too deep' },
  QP1013: { severity: 'error', title: 'too many errors' },
  QP1014: { severity: 'error', title: 'statement too long' },

  QP2001: { severity: 'error', title: 'rate above ceil' },
  QP2002: { severity: 'error', title: "children's rates exceed the parent's rate" },
  QP2003: { severity: 'error', title: "ceil above the parent's" },
  QP2004: { severity: 'error', title: 'default class missing or repeated' },
  QP2005: { severity: 'error', title: 'duplicate name' },
  QP2006: { severity: 'error', title: 'invalid interface name' },
  QP2007: { severity: 'error', title: 'interface in two trees' },
  QP2008: { severity: 'error', title: 'invalid port' },
  QP2009: { severity: 'error', title: 'invalid address or prefix' },
  QP2010: { severity: 'error', title: 'invalid DSCP' },
  QP2011: { severity: 'error', title: 'number overflows a kernel field' },
  QP2012: { severity: 'error', title: 'firewall mark invisible here' },
  QP2013: { severity: 'error', title: 'TDMA slots overlap' },
  QP2014: { severity: 'error', title: 'TDMA slot outside the frame' },
  QP2015: { severity: 'error', title: 'TDMA schedule beyond taprio limits' },
  QP2016: { severity: 'error', title: 'too many IMQ devices' },
  QP2017: { severity: 'error', title: 'block given twice' },
  QP2018: { severity: 'error', title: 'rate above the link rate' },
  QP2019: { severity: 'error', title: 'contradictory match' },
  QP2020: { severity: 'error', title: 'unknown interface' },
  QP2021: { severity: 'error', title: 'too many objects for the kernel' },
  QP2022: { severity: 'error', title: 'unsupported by the target' },
  QP2023: { severity: 'error', title: 'invalid leaf qdisc' },
  QP2024: { severity: 'error', title: 'match not possible here' },
  QP2025: { severity: 'error', title: 'invalid fair sharing' },
  QP2026: { severity: 'error', title: 'invalid link framing' },

  QP3001: { severity: 'warning', title: 'class shadowed by an earlier class' },
  QP3002: { severity: 'warning', title: 'prefix has host bits set' },
  QP3003: { severity: 'warning', title: 'class without ceil' },
  QP3004: { severity: 'warning', title: 'class receives no traffic' },
  QP3005: { severity: 'warning', title: 'TDMA without a default slot' },
  QP3006: { severity: 'warning', title: 'match expands to many filters' },
  QP3007: { severity: 'warning', title: 'first packet of a flow unmarked' },
  QP3008: { severity: 'warning', title: 'exact accounting has no effect here' },

  QP4001: { severity: 'error', title: 'cannot read file' },
  QP4002: { severity: 'error', title: 'invalid command-line option' },
  QP4003: { severity: 'error', title: 'cannot write file' },
  QP4004: { severity: 'error', title: 'cannot read the live system' },
  QP4005: { severity: 'error', title: 'plan cannot be applied' },
  QP4006: { severity: 'error', title: 'another apply holds the lock' },
  QP4007: { severity: 'error', title: 'apply failed' },
  QP4008: { severity: 'error', title: 'restore incomplete' },
  QP4009: { severity: 'error', title: 'nothing to confirm' },
  QP4010: { severity: 'error', title: 'confirmation needed' },
  QP4011: { severity: 'error', title: 'would remove all shaping' },
  QP4020: { severity: 'error', title: 'cannot write the state directory' },
  QP4021: { severity: 'error', title: 'saved plan refused' },
  QP4022: { severity: 'error', title: 'device owned by someone else' },
  QP4023: { severity: 'warning', title: 'stale lock taken over' },
  QP4024: { severity: 'warning', title: 'an unconfirmed change was reverted' },
  QP4025: { severity: 'error', title: 'confirmation too late' },
  QP4026: { severity: 'error', title: 'a tool cannot be run' },
  QP4027: { severity: 'warning', title: 'the last apply did not finish' },
} as const satisfies Record<string, CodeInfo>;

export type Code = keyof typeof CODES;
