// Per-thread CPU of the tracer (diagnostic): polls /proc/<pid>/task/*/schedstat until
// the tracer exits and prints the last-seen CPU time of each thread (ns precision), by name.
//   bun bench/thread-cpu.ts [--lines 100000] [--seconds 5] [--level DEBUG]
import { readdirSync, readFileSync } from "node:fs";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { emitCmd, requireBinary, tracerCmd } from "./lib.ts";

requireBinary();
const argS = (n: string, d: string) => { const i = process.argv.indexOf(`--${n}`); return i > 0 ? process.argv[i + 1] : d; };
const extra = argS("extra", "").split(" ").filter(Boolean);
const child = emitCmd(Number(argS("lines", "100000")), Number(argS("seconds", "5")), argS("level", "DEBUG"));
const dir = mkdtempSync(join(tmpdir(), "st-tc-"));
const proc = Bun.spawn([...tracerCmd(extra), ...child], {
  stdin: "ignore", stdout: "ignore", stderr: "ignore",
  env: { ...process.env, STARTUP_TRACER_STATE_DIR: join(dir, "state"), NO_COLOR: "1" } as Record<string, string>,
});
const last = new Map<string, { name: string; ms: number }>();
const poll = () => {
  let tids: string[];
  try { tids = readdirSync(`/proc/${proc.pid}/task`); } catch { return; }
  for (const tid of tids) {
    try {
      // schedstat's first field is the thread's time on a CPU in ns (stat's utime/stime tick at 10 ms).
      const name = readFileSync(`/proc/${proc.pid}/task/${tid}/comm`, "latin1").trim();
      const ns = Number(readFileSync(`/proc/${proc.pid}/task/${tid}/schedstat`, "latin1").split(" ")[0]);
      last.set(tid, { name, ms: Math.round(ns / 1e6) });
    } catch { /* gone */ }
  }
};
const iv = setInterval(poll, 20);
await proc.exited;
clearInterval(iv);
const ru = proc.resourceUsage()!;
const by = new Map<string, number>();
for (const { name, ms } of last.values()) by.set(name, (by.get(name) ?? 0) + ms);
console.error([...last.values()].map((v) => `${v.name}=${v.ms}`).join(" "));
console.log([...by].sort((a, b) => b[1] - a[1]).map(([n, ms]) => `${n}: ${ms}`).join(", "), `| total(rusage incl child) ${(Number(ru.cpuTime.total) / 1000).toFixed(0)}`);
