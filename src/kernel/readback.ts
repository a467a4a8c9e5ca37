// What tc shows back for a rate, a size or an htb burst it was given: the kernel's and
// tc's round trip, as measured (iproute2 6.1, psched clock of every kernel since 2.6.31:
// /proc/net/psched = 000003e8 00000040 000f4240 3b9aca00).
//
// - Rates: tc sends bytes/s (bits / 8, truncated) and prints them with
//   1000-based prefixes, dividing (truncating) while the value is a multiple of 1000 or
//   at least a million of the unit: 123bit → 120bit, 1234567bit → 1234Kbit.
// - HTB burst/cburst: tc turns bytes into a transmit time in whole microseconds, then
//   into psched ticks (64 ns), and back on show (truncating each time, and wrapping at
//   32 bits for tiny rates), then prints sizes 1024-based when within 16 bytes of a
//   whole Kb (1024 bytes of a whole Mb): burst 15k at 10gbit → 13750b, 2000 at 1234567bit
//   → 1999b, 3k at 99mbit → 3069 → "3Kb" → 3072.

const TICKS_PER_USEC = 1000 / 64; // t2us / us2t from /proc/net/psched
const USEC_PER_SEC = 1e6;
/** tc's HZ for htb's default buffer: the 4th /proc/net/psched field (1 GHz with hrtimers). */
const PSCHED_HZ = 1e9;
/** tc-htb(8): mtu used for the default burst. */
const HTB_DEFAULT_MTU = 1600;

/** The rate (bit/s) tc shows for a requested rate (bit/s). */
export function shownRate(bits: number): number {
  // In doubles while every step is exact (integers far below 2^53), which is every real rate.
  if (bits < 2 ** 40) {
    let rate = Math.floor(bits / 8) * 8;
    let scale = 1;
    for (let i = 0; i < 4; i++) {
      if (rate < 1000) break;
      if (rate % 1000 !== 0 && rate < 1000 * 1000) break;
      rate = Math.trunc(rate / 1000);
      scale *= 1000;
    }
    return rate * scale;
  }
  let rate = BigInt(Math.floor(bits / 8)) * 8n;
  let scale = 1n;
  for (let i = 0; i < 4; i++) {
    if (rate < 1000n) break;
    if (rate % 1000n !== 0n && rate < 1000n * 1000n) break;
    rate /= 1000n;
    scale *= 1000n;
  }
  return Number(rate * scale);
}

/** The size (bytes) tc shows for a size the kernel holds: `%gMb`, `%gKb` or `%ub` read back. */
export function shownSize(bytes: number): number {
  const kib = 1024;
  const mib = kib * kib;
  if (bytes >= mib && Math.abs(mib * Math.round(bytes / mib) - bytes) < 1024) return mib * Math.round(bytes / mib);
  if (bytes >= kib && Math.abs(kib * Math.round(bytes / kib) - bytes) < 16) return kib * Math.round(bytes / kib);
  return bytes;
}

/** The buffer (bytes) the kernel gives back for an htb burst of `bytes` at `bits` per second, before printing. */
export function htbBufferRoundTrip(bits: number, bytes: number): number {
  const rate = Math.floor(bits / 8); // bytes/s
  if (rate === 0) return 0;
  const usec = Math.trunc(USEC_PER_SEC * (bytes / rate)) >>> 0; // tc_calc_xmittime → tc_core_time2tick(unsigned)
  const ticks = Math.trunc(usec * TICKS_PER_USEC) % 2 ** 32; // unsigned int, wraps (exact: below 2^36)
  const back = Math.trunc(ticks / TICKS_PER_USEC); // tc_core_tick2time
  return Math.trunc((rate * back) / USEC_PER_SEC) >>> 0; // tc_calc_xmitsize
}

/** The burst tc's htb picks when none is given: rate / HZ + mtu (tc-htb(8)). */
export function htbDefaultBurst(bits: number): number {
  return Math.floor(Math.floor(bits / 8) / PSCHED_HZ) + HTB_DEFAULT_MTU;
}
