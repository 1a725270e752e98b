// Starts the wrapped command. This module is on the start-up path: it loads
// nothing but Bun itself, so the child is executing a few milliseconds after
// the tracer was.
//
// On Linux the child's stdout and stderr are pipes the tracer makes itself
// (pipe2 through bun:ffi, 0.2 ms), so that a dedicated thread can copy them
// with plain blocking read(2)/write(2), as cheaply as `cat` does
// (src/process/fast-pump.ts). Where that is not possible (no libc to load),
// Bun's own pipes and the stream pump are used instead.
import type { Subprocess } from "bun";

export interface StartedChild {
  proc: Subprocess<"inherit", "pipe", "pipe">;
  startedAt: number; // epoch ms, high resolution
  argv: string[];
  /** Read ends of the child's stdout/stderr pipes when the tracer made them (fast pump). */
  fds?: { out: number; err: number };
}

export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

const O_CLOEXEC = 0o2000000;
const F_SETPIPE_SZ = 1031;
/** A larger pipe gives the copier slack: the child never waits for a momentarily busy tracer. */
const PIPE_SIZE = 1 << 20;

/** Two pipes [read, write] for the child's stdout and stderr, or null where that is not possible. */
export function makePipes(): { out: [number, number]; err: [number, number]; close: (fd: number) => void } | null {
  if (process.platform !== "linux" || process.env.STARTUP_TRACER_BUN_PIPES) return null;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { dlopen, FFIType, ptr } = require("bun:ffi") as typeof import("bun:ffi");
    const libc = dlopen("libc.so.6", {
      pipe2: { args: [FFIType.ptr, FFIType.i32], returns: FFIType.i32 },
      fcntl: { args: [FFIType.i32, FFIType.i32, FFIType.i32], returns: FFIType.i32 },
      close: { args: [FFIType.i32], returns: FFIType.i32 },
    });
    const a = new Int32Array(2);
    const b = new Int32Array(2);
    if (libc.symbols.pipe2(ptr(a), O_CLOEXEC) !== 0) return null;
    if (libc.symbols.pipe2(ptr(b), O_CLOEXEC) !== 0) {
      libc.symbols.close(a[0]);
      libc.symbols.close(a[1]);
      return null;
    }
    for (const fd of [a[1], b[1]]) libc.symbols.fcntl(fd, F_SETPIPE_SZ, PIPE_SIZE); // best effort
    return { out: [a[0], a[1]], err: [b[0], b[1]], close: (fd) => void libc.symbols.close(fd) };
  } catch {
    return null;
  }
}

export function startChild(argv: string[], env: Record<string, string | undefined>, opts: { fast?: boolean } = {}): StartedChild {
  const pipes = opts.fast === false ? null : makePipes();
  const startedAt = nowMs();
  if (pipes) {
    let proc;
    try {
      proc = Bun.spawn(argv, { stdin: "inherit", stdout: pipes.out[1], stderr: pipes.err[1], env: env as Record<string, string> });
    } catch (e) {
      for (const fd of [...pipes.out, ...pipes.err]) pipes.close(fd);
      throw e;
    }
    // Our copies of the write ends go, so that EOF comes when the child's side closes.
    pipes.close(pipes.out[1]);
    pipes.close(pipes.err[1]);
    return { proc: proc as unknown as StartedChild["proc"], startedAt, argv, fds: { out: pipes.out[0], err: pipes.err[0] } };
  }
  const proc = Bun.spawn(argv, { stdin: "inherit", stdout: "pipe", stderr: "pipe", env: env as Record<string, string> });
  return { proc, startedAt, argv };
}

/** The signals the tracer forwards to the child. */
export const FORWARDED_SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT"] as const;

/**
 * Keeps the forwarded signals that arrive while wrap mode is still loading
 * (their default action would end the tracer and orphan the child);
 * `release` stops keeping them and returns them in order.
 */
export function holdSignals(): { release: () => string[] } {
  const held: string[] = [];
  const keep = (sig: string) => void held.push(sig);
  for (const sig of FORWARDED_SIGNALS) process.on(sig, keep);
  return {
    release: () => {
      for (const sig of FORWARDED_SIGNALS) process.off(sig, keep);
      return held.splice(0);
    },
  };
}
