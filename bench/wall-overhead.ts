// Wall time of the CPU-bound 100k-DEBUG-line child (about 5 s), traced vs
// bare, in pairs run back to back (order alternating, so load drifts hit both
// alike). Bare: the child alone, stdout to /dev/null; traced: startup-tracer
// -- child, stdout to /dev/null. The figure is the median of the per-pair
// ratios. Target: within 2 %.
//
//   make build && bun bench/wall-overhead.ts [--pairs 7]
import { arg, emitCmd, fmt, measure, median, requireBinary, tracerCmd } from "./lib.ts";

requireBinary();
const pairs = Math.max(7, arg("pairs", 7));
const child = emitCmd(100_000, 5, "DEBUG");
const bare: number[] = [], traced: number[] = [], ratios: number[] = [];
for (let i = 0; i < pairs; i++) {
  const first = i % 2 === 0;
  const a = first ? await measure(child) : null;
  const t = await measure([...tracerCmd(), ...child]);
  const b = a ?? await measure(child);
  bare.push(b.wallMs);
  traced.push(t.wallMs);
  ratios.push(t.wallMs / b.wallMs);
  console.error(`  pair ${i + 1}: bare ${fmt(b.wallMs, 0)} ms, traced ${fmt(t.wallMs, 0)} ms (${fmt((t.wallMs / b.wallMs - 1) * 100, 2)} %)`);
}
console.log(JSON.stringify({
  pairs,
  bare_median_ms: Math.round(median(bare)),
  traced_median_ms: Math.round(median(traced)),
  overhead_percent: Number(fmt((median(ratios) - 1) * 100, 2)),
  target_percent: 2,
}));
