// Copies the child's output to our own stdout/stderr byte for byte, as it
// arrives, and hands each chunk to the parser. The child's pipes are always
// drained: if our own stream is closed (EPIPE) or stuck (a full pipe nobody
// reads), output to it is dropped, counted and reported, while parsing and
// tracing go on.
//
// Two implementations: FastPassthrough (Linux x86-64; native copier threads
// doing blocking read/write, see ./fast-pump.ts) and the stream pump below
// (Bun's pipes and streams: used where the fast one is not available, where
// its copier cannot start, and with the status line).
import { FastStream } from "./fast-pump.ts";
import type { Heartbeat } from "./heartbeat.ts";
import { childStderrChunk, flushIfAtLineBoundary, setStderrMidLineProbe } from "../report/messages.ts";

export interface SinkStats {
  bytes: number;
  droppedBytes: number;
  closed: boolean;
}

/** Never more than this much waiting for a slow reader before chunks are dropped. */
const MAX_QUEUED = 32 * 1024 * 1024;

export class OutputSink {
  readonly stats: SinkStats = { bytes: 0, droppedBytes: 0, closed: false };
  constructor(private stream: NodeJS.WriteStream, private onClosed?: (why: string) => void) {
    stream.on("error", (e: Error) => {
      if (!this.stats.closed) {
        this.stats.closed = true;
        this.onClosed?.((e as NodeJS.ErrnoException).code ?? e.message);
      }
    });
  }

  write(chunk: Uint8Array): void {
    if (this.stats.closed) {
      this.stats.droppedBytes += chunk.byteLength;
      return;
    }
    const queued = (this.stream as unknown as { writableLength?: number }).writableLength ?? 0;
    if (queued > MAX_QUEUED) {
      this.stats.droppedBytes += chunk.byteLength;
      return;
    }
    try {
      this.stream.write(chunk);
      this.stats.bytes += chunk.byteLength;
    } catch (e) {
      this.stats.closed = true;
      this.stats.droppedBytes += chunk.byteLength;
      this.onClosed?.((e as NodeJS.ErrnoException).code ?? String(e));
    }
  }
}

/** Reads a child stream to its end; `onChunk` failures never stop the copy. */
export async function pump(stream: ReadableStream<Uint8Array>, sink: OutputSink,
  onChunk: (chunk: Uint8Array) => void): Promise<void> {
  const reader = stream.getReader();
  let parse = true;
  for (;;) {
    let r;
    try {
      r = await reader.read();
    } catch {
      break;
    }
    if (r.done) break;
    const chunk = r.value;
    sink.write(chunk);
    if (parse) {
      try {
        onChunk(chunk);
      } catch {
        parse = false; // a parser fault costs the trace, never the output
      }
    }
  }
}

/** The stream pump over a pipe the tracer made itself (when a native copier cannot start). */
export function pumpFd(fd: number, sink: OutputSink, onChunk: (chunk: Uint8Array) => void): Promise<void> {
  return pump(Bun.file(fd).stream() as ReadableStream<Uint8Array>, sink, onChunk);
}

/**
 * Both child streams through copier threads (./fast-pump.ts). The parser gets
 * each chunk with its arrival time; the tracer's own messages on stderr wait
 * for the child's stderr to be at a line boundary, as with the stream pump.
 */
export class FastPassthrough {
  readonly stdout: FastStream;
  readonly stderr: FastStream | null;
  readonly finished: Promise<void>[];
  private unsubscribe: (() => void) | null;
  private warned = false;

  /**
   * The parser takes the copiers' output on every beat of `beat` (the main
   * thread's one timer, shared with sampling), and at once when a copier's
   * ring is half full.
   */
  constructor(fds: { out: number; err: number }, private onChunk: (stream: 1 | 2, chunk: Uint8Array, tMs: number) => void,
    beat: Heartbeat, private onClosed?: (why: string) => void) {
    this.stdout = new FastStream(fds.out, 1); // throws where no copier can start: the caller pumps both instead
    let errDone: Promise<void>;
    try {
      this.stderr = new FastStream(fds.err, 2);
      errDone = this.stderr.finished;
      setStderrMidLineProbe(() => this.stderr!.midLine);
      this.stderr.onWake = () => this.pull();
    } catch {
      // Only the second copier failed (no pipe or thread left): stderr goes through Bun's streams.
      this.stderr = null;
      errDone = pumpFd(fds.err, new OutputSink(process.stderr), (c) => {
        childStderrChunk(c);
        onChunk(2, c, performance.timeOrigin + performance.now());
      });
    }
    this.finished = [this.stdout.finished, errDone];
    this.stdout.onWake = () => this.pull();
    this.unsubscribe = beat.add(() => this.pull());
  }

  /** Hands what the copiers have read since the last call to the parser; returns the number of chunks. */
  pull(): number {
    const n = this.stdout.pull((c, t) => this.onChunk(1, c, t)) + (this.stderr?.pull((c, t) => this.onChunk(2, c, t)) ?? 0);
    flushIfAtLineBoundary();
    if (!this.warned && this.stdout.stats.closed) {
      this.warned = true;
      this.onClosed?.(errnoName(this.stdout.stats.errno));
    }
    return n;
  }

  stopParsing(): void {
    this.stdout.stopParsing();
    this.stderr?.stopParsing();
  }

  /** Resolves once every copier that has seen the end of the child's output has written out its queue. */
  async drained(): Promise<void> {
    await Promise.all([this.stdout, this.stderr].filter((s) => s?.draining).map((s) => s!.finished));
  }

  stop(): void {
    this.unsubscribe?.();
    this.unsubscribe = null;
    this.pull();
  }
}

function errnoName(e: number): string {
  return ({ 32: "EPIPE", 9: "EBADF", 5: "EIO", 28: "ENOSPC", 104: "ECONNRESET" } as Record<number, string>)[e] ?? `errno ${e}`;
}
