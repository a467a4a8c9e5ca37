// Shared traversal for checker rules and the compiler: every tree, every class with its
// resolved limits. Percentages were resolved by the lowering (syntax/resolve.ts).
import type { ClassNode, Policy, Tree } from '../syntax/ast.js';

export function trees(policy: Policy): Tree[] {
  const out: Tree[] = [];
  for (const i of policy.interfaces) {
    if (i.ingress) out.push(i.ingress);
    if (i.egress) out.push(i.egress);
  }
  for (const s of policy.shared) out.push(s.tree);
  return out;
}

/** "wan0 ingress" / "shared uplinks" — how diagnostics and plans name a tree. */
export const treeLabel = (t: Tree): string =>
  t.owner.kind === 'shared' ? `shared ${t.owner.name.text}` : `${t.owner.name.text} ${t.direction}`;

export interface ClassVisit {
  cls: ClassNode;
  /** undefined for a top-level class (its parent is the tree). */
  parent: ClassNode | undefined;
  /** The parent's guaranteed rate and ceiling in bit/s (the tree rate at the top). */
  parentRate: number;
  parentCeil: number;
  /** This class's ceiling: its own, or inherited from the parent when not given. */
  ceil: number;
  depth: number;
  /** Names from the top, e.g. ['office', 'voip']. */
  path: string[];
  siblings: ClassNode[];
  index: number;
}

/** Pre-order walk (parents before children, siblings in file order). */
export function walkClasses(tree: Tree, visit: (v: ClassVisit) => void): void {
  const rec = (
    list: ClassNode[],
    parent: ClassNode | undefined,
    parentRate: number,
    parentCeil: number,
    depth: number,
    path: string[],
  ) => {
    list.forEach((cls, index) => {
      const ceil = cls.ceil?.bps ?? parentCeil;
      const v: ClassVisit = {
        cls,
        parent,
        parentRate,
        parentCeil,
        ceil,
        depth,
        path: [...path, cls.name.text],
        siblings: list,
        index,
      };
      visit(v);
      rec(cls.children, cls, cls.rate?.bps ?? 0, ceil, depth + 1, v.path);
    });
  };
  rec(tree.classes, undefined, tree.rate.bps, tree.rate.bps, 0, []);
}

export const isLeaf = (c: ClassNode): boolean => c.children.length === 0;

/** The leaf a tree's (or group's) default resolves to, following nested defaults. */
export function defaultLeaf(classes: ClassNode[]): ClassNode | undefined {
  const d = classes.find((c) => c.isDefault);
  if (!d) return undefined;
  return isLeaf(d) ? d : defaultLeaf(d.children);
}
