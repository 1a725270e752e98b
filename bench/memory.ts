// Peak resident memory of the tracer process alone (VmHWM from
// /proc/<pid>/status, polled every 20 ms until it exits; VmHWM only grows, so
// the last reading is the peak up to then) while it traces the 100k-DEBUG-line
// start-up. The wrapper's wait4 maxrss is printed as a cross-check.
// Target: < 80 MB.
//
//   make build && bun bench/memory.ts [--runs 3]
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { arg, emitCmd, fmt, median, requireBinary, tracerCmd } from "./lib.ts";

requireBinary();
const runs = arg("runs", 3);
const hwm: number[] = [];
const maxrss: number[] = [];
for (let i = 0; i < runs; i++) {
  const dir = mkdtempSync(join(tmpdir(), "st-mem-"));
  const p = Bun.spawn([...tracerCmd(), ...emitCmd(100_000, 5, "DEBUG")], {
    stdin: "ignore", stdout: "ignore", stderr: "ignore",
    env: { ...process.env, STARTUP_TRACER_STATE_DIR: join(dir, "state") } as Record<string, string>,
  });
  let kb = 0;
  const poll = setInterval(() => {
    try {
      const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${p.pid}/status`, "latin1"));
      if (m) kb = Math.max(kb, Number(m[1]));
    } catch { /* gone */ }
  }, 20);
  await p.exited;
  clearInterval(poll);
  rmSync(dir, { recursive: true, force: true });
  hwm.push(kb / 1024);
  maxrss.push(Number(p.resourceUsage()!.maxRSS) / (1024 * 1024)); // Bun reports bytes
  console.error(`  run ${i + 1}: VmHWM ${fmt(kb / 1024)} MB (wait4 maxrss of tracer and child: ${fmt(maxrss[i])} MB)`);
}
console.log(JSON.stringify({ runs, peak_rss_mb: Number(fmt(median(hwm))), max_peak_rss_mb: Number(fmt(Math.max(...hwm))), target_mb: 80 }));
