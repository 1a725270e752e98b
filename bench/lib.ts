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

export function emitCmd(lines: number, seconds: number, level = "DEBUG"): string[] {
  return ["python3", EMIT, LOG, String(lines), String(seconds), level];
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
