// The binary starts with JavaScriptCore's tier-up thresholds x64 (Makefile,
// --compile-jit-policy): most of the tracer's code is lukewarm (a sample every
// 100 ms, a few lines a second from an INFO start-up) and compiling it costs
// more CPU than it saves: 307 vs 401 ms of tracer CPU for a 20 s INFO start-up,
// alternating runs. A DEBUG flood is different: the parser's loops are hot and
// pay for normal JIT thresholds, so once the child has printed FLOOD_BYTES the
// normal policy comes back.

/** About 12k vLLM log lines: an INFO start-up prints a few hundred kB in all. */
export const FLOOD_BYTES = 1 << 20;

let seen = 0;
let normal = false;

/** Counts the child's output; at FLOOD_BYTES the JIT gets its normal thresholds back. */
export function noteOutput(bytes: number): void {
  if (normal) return;
  seen += bytes;
  if (seen < FLOOD_BYTES) return;
  normal = true;
  try {
    (Bun as unknown as { unsafe?: { setJITPolicy?: (n: number) => void } }).unsafe?.setJITPolicy?.(1);
  } catch { /* older Bun: keep the policy */ }
}
