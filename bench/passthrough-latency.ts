// Passthrough latency of one line: a child writes lines carrying their write
// time (CLOCK_MONOTONIC); a reader process on the other end of the pipe stamps
// each line's arrival. Compared: child | reader (the floor), child | cat |
// reader, and startup-tracer -- child | reader. Lines come 10 ms apart and
// then in a burst 0.2 ms apart (the tracer's copier coalesces reads during a
// flood). Target: tracer p99 < 1 ms.
//
//   make build && bun bench/passthrough-latency.ts [--runs 3] [--lines 300] [--burst 2000]
import { join } from "node:path";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { arg, BIN, fmt, median, percentile, PYTHON, requireBinary, ROOT } from "./lib.ts";

requireBinary();
const runs = arg("runs", 3);
const lines = arg("lines", 300);
const burst = arg("burst", 2000);
const writer = [PYTHON, join(ROOT, "bench", "children", "stamp-lines.py"), String(lines), "10", String(burst), "0.2"];
const reader = [PYTHON, join(ROOT, "bench", "children", "arrival.py")];
const q = (a: string[]) => a.map((s) => `'${s.replace(/'/g, `'\\''`)}'`).join(" ");
const dir = mkdtempSync(join(tmpdir(), "st-pl-"));
const cases: Record<string, string> = {
  direct: `${q(writer)} | ${q(reader)}`,
  cat: `${q(writer)} | cat | ${q(reader)}`,
  tracer: `${q([BIN, "--quiet", "--no-history", "--"])} ${q(writer)} | ${q(reader)}`,
};
const all: Record<string, number[]> = {};
const p99s: Record<string, number[]> = {};
for (let r = 0; r < runs; r++) {
  for (const [k, cmd] of Object.entries(cases)) {
    const p = Bun.spawnSync(["sh", "-c", cmd], {
      stdout: "pipe", stderr: "inherit",
      env: { ...process.env, STARTUP_TRACER_STATE_DIR: join(dir, "state"), OTEL_TRACES_EXPORTER: "none" } as Record<string, string>,
    });
    const lat: number[] = JSON.parse(new TextDecoder().decode(p.stdout) || "[]");
    if (lat.length !== lines + burst) console.error(`  ${k}: ${lat.length} of ${lines + burst} lines arrived`);
    (all[k] ??= []).push(...lat);
    (p99s[k] ??= []).push(percentile(lat, 99));
  }
}
rmSync(dir, { recursive: true, force: true });
const out: Record<string, unknown> = { runs, lines_per_run: lines + burst };
for (const k of Object.keys(cases)) {
  const xs = all[k];
  console.error(`  ${k.padEnd(7)} p50 ${fmt(percentile(xs, 50), 3)} ms, p99 ${fmt(percentile(xs, 99), 3)} ms, max ${fmt(Math.max(...xs), 3)} ms (p99 per run: ${p99s[k].map((x) => fmt(x, 3)).join(", ")})`);
  out[`${k}_p50_ms`] = Number(fmt(percentile(xs, 50), 3));
  out[`${k}_p99_ms`] = Number(fmt(percentile(xs, 99), 3));
  out[`${k}_max_ms`] = Number(fmt(Math.max(...xs), 3));
}
out.tracer_p99_median_of_runs_ms = Number(fmt(median(p99s.tracer), 3));
out.target_p99_ms = 1;
console.log(JSON.stringify(out));
