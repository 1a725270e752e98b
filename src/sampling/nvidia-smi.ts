// NVIDIA GPU sampling from ONE long-lived
//   nvidia-smi --query-gpu=<fields> --format=csv,noheader,nounits -lms <interval>
// child, parsed line by line (never one nvidia-smi call per sample: with
// persistence mode off each call can cost a full GPU initialisation). Each
// cycle prints one line per GPU; a line is stamped with the time it arrives.
// Missing, failing or garbled nvidia-smi only sets a reason; nothing else is
// disturbed. The child is stopped by PID (stop(), or synchronously at process
// exit); should the tracer die without that, nvidia-smi dies of SIGPIPE on its
// next write.
//
// Cost: an event-driven pipe reader costs Bun ~0.5 % of a core at 20 chunks/s
// (one event-loop wake-up per chunk, measured), so nvidia-smi writes into a
// FIFO whose read end we open non-blocking and drain from the sampling tick
// (poll()): no extra wake-ups. A reading is stamped with the time of the tick
// that read it (at most one interval late). Where a FIFO cannot be made, the
// pipe reader is used.

import { closeSync, constants, openSync, readSync, unlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { numOrNaN, type GpuMonitor, type GpuReading } from "./gpu-types.ts";

export const NVIDIA_QUERY_FIELDS = [
  "index",
  "uuid",
  "name",
  "utilization.gpu",
  "memory.used",
  "memory.total",
  "power.draw",
  "clocks.sm",
] as const;

const MIB = 1024 * 1024;

/** Parses one `--format=csv,noheader,nounits` line of NVIDIA_QUERY_FIELDS. */
export function parseNvidiaSmiLine(line: string): GpuReading | null {
  const f = line.split(",").map((s) => s.trim());
  if (f.length !== NVIDIA_QUERY_FIELDS.length) return null;
  const index = Number(f[0]);
  if (!Number.isInteger(index) || index < 0 || f[0] === "") return null;
  const util = numOrNaN(f[3]);
  return {
    index,
    uuid: f[1],
    name: f[2],
    util: util / 100,
    memUsedBytes: numOrNaN(f[4]) * MIB,
    memTotalBytes: numOrNaN(f[5]) * MIB,
    powerW: numOrNaN(f[6]),
    smClockMhz: numOrNaN(f[7]),
  };
}

export function nvidiaSmiArgs(intervalMs: number): string[] {
  return [
    `--query-gpu=${NVIDIA_QUERY_FIELDS.join(",")}`,
    "--format=csv,noheader,nounits",
    "-lms",
    String(Math.max(1, Math.round(intervalMs))),
  ];
}

/** Resolves a command name against PATH (or checks an explicit path); null when absent. */
export function resolveTool(cmd: string, env: Record<string, string | undefined> = process.env): string | null {
  try {
    if (cmd.includes("/")) return Bun.which(cmd) ?? null;
    return Bun.which(cmd, { PATH: env.PATH ?? "" }) ?? null;
  } catch {
    return null;
  }
}

export interface NvidiaSmiOptions {
  path?: string;
  intervalMs: number;
  onReading: (t: number, r: GpuReading) => void;
  now: () => number;
}

export class NvidiaSmiMonitor implements GpuMonitor {
  readonly source = "nvidia-smi" as const;
  private proc: ReturnType<typeof Bun.spawn> | null = null;
  private why: string | null = null;
  private n = 0;
  private bad = 0;
  private firstBad = "";
  private stderrHead = "";
  private stopping = false;
  private exitHook: (() => void) | null = null;
  private fifoFd = -1;
  private pending = "";
  private readonly chunk = Buffer.allocUnsafe(65536);

  constructor(private readonly opts: NvidiaSmiOptions) {}

  /** Starts the child; false (with reason()) when nvidia-smi is missing or cannot start. */
  start(): boolean {
    const cmd = this.opts.path ?? "nvidia-smi";
    const exe = resolveTool(cmd);
    if (!exe) {
      this.why = cmd.includes("/") ? `${cmd} not found or not executable` : `${cmd} not found on PATH`;
      return false;
    }
    const fifo = this.makeFifo();
    try {
      this.proc = Bun.spawn([exe, ...nvidiaSmiArgs(this.opts.intervalMs)], {
        stdin: "ignore",
        env: { ...process.env },
        stdout: fifo ? fifo.writeFd : "pipe",
        stderr: "pipe",
      });
    } catch (e) {
      if (fifo) this.closeFifo();
      this.why = `could not start ${exe}: ${(e as Error)?.message ?? e}`;
      return false;
    }
    const proc = this.proc;
    if (fifo) {
      try {
        closeSync(fifo.writeFd); // the child holds the write end now: EOF when it exits
      } catch {
        /* ignore */
      }
    }
    proc.unref();
    const pid = proc.pid;
    this.exitHook = () => {
      try {
        process.kill(pid, "SIGTERM");
      } catch {
        /* already gone */
      }
    };
    process.once("exit", this.exitHook);
    if (!fifo) void this.readStdout(proc.stdout as ReadableStream<Uint8Array>);
    void this.readStderr(proc.stderr as ReadableStream<Uint8Array>);
    void proc.exited.then(
      (code) => {
        if (this.stopping) return;
        this.poll(); // whatever it wrote before exiting
        const detail = (this.stderrHead || this.firstBad).trim().split("\n")[0]?.slice(0, 200) ?? "";
        this.why =
          this.n > 0
            ? `nvidia-smi exited (code ${code}) after ${this.n} readings; GPU sampling stopped${detail ? `: ${detail}` : ""}`
            : `nvidia-smi exited (code ${code}) without GPU readings${detail ? `: ${detail}` : ""}`;
        this.removeExitHook();
      },
      () => {},
    );
    return true;
  }

  /** FIFO: open read end non-blocking first (so opening the write end does not block), unlink at once. */
  private makeFifo(): { writeFd: number } | null {
    const path = join(tmpdir(), `startup-tracer-nvsmi-${process.pid}-${Math.random().toString(36).slice(2)}`);
    try {
      const r = Bun.spawnSync(["mkfifo", "-m", "600", path], { stdout: "ignore", stderr: "ignore" });
      if (r.exitCode !== 0) return null;
      this.fifoFd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
      const writeFd = openSync(path, constants.O_WRONLY | constants.O_NONBLOCK);
      unlinkSync(path);
      return { writeFd };
    } catch {
      this.closeFifo();
      try {
        unlinkSync(path);
      } catch {
        /* not there */
      }
      return null;
    }
  }

  private closeFifo(): void {
    if (this.fifoFd >= 0) {
      try {
        closeSync(this.fifoFd);
      } catch {
        /* ignore */
      }
    }
    this.fifoFd = -1;
  }

  /** Drains what nvidia-smi wrote since the last call (FIFO mode); cheap when there is nothing. */
  poll(): void {
    if (this.fifoFd < 0) return;
    for (let i = 0; i < 64; i++) {
      let n = 0;
      try {
        n = readSync(this.fifoFd, this.chunk, 0, this.chunk.length, null);
      } catch {
        return; // EAGAIN: nothing more right now
      }
      if (n <= 0) return; // EOF: the child exited (proc.exited reports it)
      this.pending += this.chunk.toString("latin1", 0, n);
      let nl: number;
      while ((nl = this.pending.indexOf("\n")) >= 0) {
        const line = this.pending.slice(0, nl).replace(/\r$/, "");
        this.pending = this.pending.slice(nl + 1);
        this.handleLine(line);
      }
      if (this.pending.length > 65536) this.pending = "";
    }
  }

  pid(): number | null {
    return this.proc?.pid ?? null;
  }

  reason(): string | null {
    if (this.why) return this.why;
    if (this.proc && this.n === 0) {
      return this.bad > 0
        ? `nvidia-smi output not understood (${this.bad} lines), e.g. "${this.firstBad.slice(0, 120)}"`
        : "no readings from nvidia-smi yet";
    }
    return null;
  }

  readings(): number {
    return this.n;
  }

  private async readStdout(stream: ReadableStream<Uint8Array>): Promise<void> {
    const dec = new TextDecoder();
    let buf = "";
    try {
      const reader = stream.getReader();
      for (;;) {
        const { value: chunk, done } = await reader.read();
        if (done) break;
        buf += dec.decode(chunk, { stream: true });
        let nl: number;
        while ((nl = buf.indexOf("\n")) >= 0) {
          const line = buf.slice(0, nl).replace(/\r$/, "");
          buf = buf.slice(nl + 1);
          this.handleLine(line);
        }
        if (buf.length > 65536) buf = ""; // garbage without newlines: drop it
      }
    } catch {
      /* stream torn down on stop */
    }
  }

  private handleLine(line: string): void {
    if (line.trim() === "") return;
    const r = parseNvidiaSmiLine(line);
    if (!r) {
      this.bad++;
      if (!this.firstBad) this.firstBad = line;
      return;
    }
    this.n++;
    try {
      this.opts.onReading(this.opts.now(), r);
    } catch {
      /* a consumer bug must not kill the reader */
    }
  }

  private async readStderr(stream: ReadableStream<Uint8Array>): Promise<void> {
    const dec = new TextDecoder();
    try {
      const reader = stream.getReader();
      for (;;) {
        const { value: chunk, done } = await reader.read();
        if (done) break;
        if (this.stderrHead.length < 1000) this.stderrHead += dec.decode(chunk, { stream: true });
      }
    } catch {
      /* ignore */
    }
  }

  private removeExitHook(): void {
    if (this.exitHook) process.removeListener("exit", this.exitHook);
    this.exitHook = null;
  }

  async stop(): Promise<void> {
    const proc = this.proc;
    if (!proc || this.stopping) return;
    this.stopping = true;
    this.removeExitHook();
    this.closeFifo();
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    try {
      proc.kill("SIGTERM");
    } catch {
      /* gone */
    }
    const exited = await Promise.race([proc.exited.then(() => true), Bun.sleep(1000).then(() => false)]);
    if (!exited) {
      try {
        proc.kill("SIGKILL");
      } catch {
        /* gone */
      }
      await Promise.race([proc.exited, Bun.sleep(1000)]);
    }
  }
}
