// DSCP code points by name (RFC 2474, 2597, 3246, 5865, 8622).
export const DSCP_NAMES: Record<string, number> = {
  be: 0,
  df: 0,
  le: 1,
  ef: 46,
  va: 44,
  ...Object.fromEntries([0, 1, 2, 3, 4, 5, 6, 7].map((i) => [`cs${i}`, i * 8])),
  ...Object.fromEntries(
    [1, 2, 3, 4].flatMap((c) => [1, 2, 3].map((d) => [`af${c}${d}`, c * 8 + d * 2])),
  ),
};
