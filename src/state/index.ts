// Read the live tc state of a device into the model's objects (src/model), and say what
// reading a desired object back will show. Parsing is pure; readDevice runs tc, readLive
// reads everything in a plan's scope (tc, ip, iptables-save, /sys).
export { parseQdiscs } from './qdiscs.js';
export { parseClasses } from './classes.js';
export { parseFilters, parseRootTable, type ParseFiltersOptions } from './filters.js';
export { readDevice, type ReadOptions } from './read.js';
export { expectedReadback, listedOrder, packU32Keys } from './readback.js';
export { unmodeledOf, type Unmodeled, type LiveObject, type LiveQdisc, type LiveClass, type LiveFilter } from './live.js';
export { parseIptablesSave, tokenize, chainId, type IptablesChain, type OwnedChain, type ParsedIptables } from './iptables.js';
export { parseLinks, type LiveLink } from './links.js';
export { parseModule, parseSysfs, type LiveSysfs } from './sysfs.js';
export { tcDevices, emptyScope, type Scope, type LiveItem } from './scope.js';
export { readLive, type ReadLiveOptions } from './readlive.js';
export { parseClassCounters, readClassCounters, type ClassCounters } from './stats.js';
export { probeFeatures, forgetProbes, readTxQueues, type ProbeOptions, type ProbeRunner } from './features.js';
export { ToolError } from './exec.js';
export { readOwners, markOwner } from './owners.js';
