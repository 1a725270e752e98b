// Per-thread CPU of the tracer (diagnostic): polls /proc/<pid>/task/*/stat until
// the tracer exits and prints the last-seen utime+stime of each thread, by name.
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
      const t = readFileSync(`/proc/${proc.pid}/task/${tid}/stat`, "latin1");
      const close = t.lastIndexOf(")");
      const name = t.slice(t.indexOf("(") + 1, close);
      const f = t.slice(close + 2).split(" ");
      last.set(tid, { name, ms: (Number(f[11]) + Number(f[12])) * 10 });
    } catch { /* gone */ }
  }
};
const iv = setInterval(poll, 20);
await proc.exited;
clearInterval(iv);
const ru = proc.resourceUsage()!;
const by = new Map<string, number>();
for (const { name, ms } of last.values()) by.set(name, (by.get(name) ?? 0) + ms);
console.log([...by].sort((a, b) => b[1] - a[1]).map(([n, ms]) => `${n}: ${ms}`).join(", "), `| total(rusage incl child) ${(Number(ru.cpuTime.total) / 1000).toFixed(0)}`);
