// Shell quoting, once. POSIX single quotes: the only character needing care inside '…' is '
// itself. The boot script quotes every value (shq); a plan's command lines, meant for people
// to read and paste, leave words that need no quoting bare (shWord).

export const shq = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

const PLAIN = /^[A-Za-z0-9_@%+=:,./-]+$/;

/** A word as a shell reads it back unchanged: bare when it holds nothing special. */
export const shWord = (s: string) => (PLAIN.test(s) ? s : shq(s));
