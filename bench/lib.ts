// Shared helpers for the overhead benchmarks: how to run the compiled tracer,
// the CPU-bound stand-in child, and CPU accounting of one process alone.
//
// CPU of a wrapper alone: wait4's rusage of the wrapper covers the wrapper and
// its reaped child; the child reports its own rusage at exit (EMIT_USAGE_FILE),
// and the difference is the wrapper's own CPU time.
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const ROOT = join(import.meta.dir, "..");
export const BIN = process.env.STARTUP_TRACER_BIN ?? join(ROOT, "dist", "startup-tracer");
export const EMIT = join(ROOT, "bench", "children", "emit.py");
export const LOG = [
  join(ROOT, "..", "shared", "vllm-logs", "paper-h100nvl", "v0.10.1.1-h100nvl-qwen-0.5b.log"),
  join(ROOT, "test", "fixtures", "bench-startup.log"),
].find((p) => existsSync(p))!;

export function requireBinary(): void {
  if (!existsSync(BIN)) {
    console.error(`no compiled tracer at ${BIN}: run 'make build' first`);
    process.exit(2);
  }
}

export function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
}

export interface Measured {
  wallMs: number;
  /** CPU of the spawned process and its reaped descendants (user+system), ms. */
  totalCpuMs: number;
  /** CPU the emitting child reported for itself, ms. */
  childCpuMs: number;
  /** totalCpuMs - childCpuMs: the wrapper alone. */
  ownCpuMs: number;
  maxRssKb: number;
  code: number;
}

/**
 * The real Python interpreter, not a version-manager shim (pyenv's python3 is a
 * bash script that runs several helper processes before exec'ing Python: their
 * CPU would be charged to whatever wraps the child).
 */
export const PYTHON: string = (() => {
  const r = Bun.spawnSync(["python3", "-c", "import sys; print(sys.executable)"], { stderr: "ignore" });
  const p = new TextDecoder().decode(r.stdout).trim();
  return r.exitCode === 0 && p && existsSync(p) ? p : "python3";
})();

export function emitCmd(lines: number, seconds: number, level = "DEBUG"): string[] {
  return [PYTHON, EMIT, LOG, String(lines), String(seconds), level];
}

/** Runs argv (a wrapper whose command includes emitCmd) with stdout/stderr to /dev/null. */
export async function measure(argv: string[], env: Record<string, string> = {}): Promise<Measured> {
  const dir = mkdtempSync(join(tmpdir(), "st-bench-"));
  const usage = join(dir, "usage.json");
  const t0 = performance.now();
  const proc = Bun.spawn(argv, {
    stdin: "ignore", stdout: "ignore", stderr: "ignore",
    env: { ...process.env, EMIT_USAGE_FILE: usage, STARTUP_TRACER_STATE_DIR: join(dir, "state"), NO_COLOR: "1", ...env } as Record<string, string>,
  });
  const code = await proc.exited;
  const wallMs = performance.now() - t0;
  const ru = proc.resourceUsage()!;
  const totalCpuMs = Number(ru.cpuTime.total) / 1000;
  let childCpuMs = 0;
  try {
    const u = JSON.parse(readFileSync(usage, "utf8"));
    childCpuMs = (u.user + u.system) * 1000;
  } catch { /* child did not report */ }
  rmSync(dir, { recursive: true, force: true });
  return { wallMs, totalCpuMs, childCpuMs, ownCpuMs: totalCpuMs - childCpuMs, maxRssKb: Number(ru.maxRSS), code };
}

/** `cat` reading the child's pipe: sh -c 'child | exec cat' — sh's own cost is a few ms and is counted against cat. */
export function catCmd(child: string[]): string[] {
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  return ["sh", "-c", `${child.map(q).join(" ")} | cat`];
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}

export function tracerCmd(extra: string[] = []): string[] {
  return [BIN, "--quiet", "--no-history", ...extra, "--"];
}

/** CLOCK_MONOTONIC in ms (the clock the benchmark children stamp with), through libc. */
export const monoMs: () => number = (() => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { dlopen, FFIType, ptr } = require("bun:ffi") as typeof import("bun:ffi");
  const libc = dlopen("libc.so.6", { clock_gettime: { args: [FFIType.i32, FFIType.ptr], returns: FFIType.i32 } });
  const ts = new BigInt64Array(2);
  const p = ptr(ts);
  return () => {
    libc.symbols.clock_gettime(1, p);
    return Number(ts[0]) * 1000 + Number(ts[1]) / 1e6;
  };
})();

export function uptimeLine(): string {
  try {
    return readFileSync("/proc/loadavg", "utf8").trim().split(" ").slice(0, 3).join(" ");
  } catch {
    return "?";
  }
}

export function fmt(x: number, d = 1): string {
  return Number.isFinite(x) ? x.toFixed(d) : String(x);
}
