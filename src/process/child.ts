// Starts the wrapped command. This module is on the start-up path: it loads
// nothing but Bun itself, so the child is executing a few milliseconds after
// the tracer was.
import type { Subprocess } from "bun";

export interface StartedChild {
  proc: Subprocess<"inherit", "pipe", "pipe">;
  startedAt: number; // epoch ms, high resolution
  argv: string[];
}

export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

export function startChild(argv: string[], env: Record<string, string | undefined>): StartedChild {
  const startedAt = nowMs();
  const proc = Bun.spawn(argv, { stdin: "inherit", stdout: "pipe", stderr: "pipe", env: env as Record<string, string> });
  return { proc, startedAt, argv };
}
