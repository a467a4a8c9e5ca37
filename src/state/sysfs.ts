import { moduleId, sysfsId, type ModuleLoad, type SysfsWrite } from '../model/index.js';

/**
 * A loaded module from its /sys/module/MODULE/parameters files (name → file content),
 * or undefined when /sys/module/MODULE does not exist. Only parameters with a decimal
 * value are kept (the model's params are numbers); a parameter the module does not show
 * in sysfs (permission 0, like ifb's numifbs and imq's numdevs) is simply absent.
 * Built-in modules without visible parameters have no /sys/module entry at all.
 */
export function parseModule(module: string, files: Record<string, string> | undefined): ModuleLoad | undefined {
  if (files === undefined) return undefined;
  const params: Record<string, number> = {};
  for (const [k, v] of Object.entries(files).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (/^-?\d+$/.test(v.trim())) params[k] = Number(v.trim());
  }
  return { kind: 'module', id: moduleId(module), module, params };
}

/** A sysfs file qospolicy writes, as read back. `absent`: its directory does not exist (module not loaded). */
export interface LiveSysfs extends SysfsWrite {
  absent?: true;
}

/** The live value of a sysfs file: its content without the trailing newline; absent dir → `absent`. */
export function parseSysfs(path: string, content: string | undefined, dirExists: boolean): LiveSysfs | undefined {
  if (!dirExists) return { kind: 'sysfs', id: sysfsId(path), path, value: '', absent: true };
  if (content === undefined) return undefined;
  return { kind: 'sysfs', id: sysfsId(path), path, value: content.trim() };
}
