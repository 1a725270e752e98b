// Runs the tracer as a real process: the compiled binary when
// STARTUP_TRACER_BIN is set (make test), else `bun src/cli/main.ts`.
import { join } from "node:path";

export const ROOT = join(import.meta.dir, "..", "..");
export const SHARED = join(ROOT, "..", "shared");
export const LOGS = join(SHARED, "vllm-logs");

export function tracerCmd(): string[] {
  const bin = process.env.STARTUP_TRACER_BIN;
  return bin ? [bin] : [process.execPath, join(ROOT, "src", "cli", "main.ts")];
}

export interface RunResult {
  code: number;
  stdout: Uint8Array;
  stderr: Uint8Array;
  out: string;
  err: string;
}

export async function runTracer(args: string[], opts: { env?: Record<string, string | undefined>; timeoutMs?: number; stdin?: "ignore" | "inherit" } = {}): Promise<RunResult> {
  const proc = Bun.spawn([...tracerCmd(), ...args], {
    env: { ...process.env, NO_COLOR: "1", ...opts.env } as Record<string, string>,
    stdout: "pipe", stderr: "pipe", stdin: "ignore",
  });
  const timer = setTimeout(() => proc.kill("SIGKILL"), opts.timeoutMs ?? 60_000);
  const [stdout, stderr] = await Promise.all([new Response(proc.stdout).bytes(), new Response(proc.stderr).bytes()]);
  const code = await proc.exited;
  clearTimeout(timer);
  const dec = new TextDecoder();
  return { code, stdout, stderr, out: dec.decode(stdout), err: dec.decode(stderr) };
}

/** A fresh state directory per test, so traces, spool and history never mix. */
export function tempStateDir(): string {
  const { mkdtempSync } = require("node:fs") as typeof import("node:fs");
  const { tmpdir } = require("node:os") as typeof import("node:os");
  return mkdtempSync(join(tmpdir(), "st-state-"));
}

/** A loopback port that was free a moment ago (for --listen in tests). */
export function freePort(): number {
  const s = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("") });
  const p = s.port!;
  s.stop(true);
  return p;
}
