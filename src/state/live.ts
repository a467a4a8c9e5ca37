import type { Filter, HtbClass, KernelObject, Qdisc } from '../model/index.js';

/**
 * What the reader saw on a live object that the model has no field for: a foreign
 * qdisc kind or option, an unknown classifier, a u32 hash-table link, an action other
 * than `mirred egress redirect`, a class `overhead`… Each entry is `[what, text]`,
 * `text` being tc's own spelling, for a plan to show.
 *
 * An object that carries `unmodeled` can never equal a desired object: the plan must
 * replace it (or remove it) rather than call it unchanged.
 */
export interface Unmodeled {
  unmodeled?: Array<[string, string]>;
}

export type LiveQdisc = Qdisc & Unmodeled;
export type LiveClass = HtbClass & Unmodeled;
export type LiveFilter = Filter & Unmodeled;
export type LiveObject = KernelObject & Unmodeled;

/** The unmodeled details of a live object (empty for objects the model fully describes). */
export function unmodeledOf(obj: KernelObject): Array<[string, string]> {
  return (obj as Unmodeled).unmodeled ?? [];
}

/** Appends an unmodeled detail to a live object. */
export function addUnmodeled<T extends Unmodeled>(obj: T, what: string, text: string): T {
  (obj.unmodeled ??= []).push([what, text]);
  return obj;
}
