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
import { FastStream, MAX_QUEUED, STUCK_MS } from "./fast-pump.ts";
import type { Heartbeat } from "./heartbeat.ts";
import { childStderrChunk, flushIfAtLineBoundary, setStderrMidLineProbe, setStderrWriter } from "../report/messages.ts";

export interface SinkStats {
  bytes: number;
  droppedBytes: number;
  closed: boolean;
}

/** At most this much is handed to Bun's stream at a time (see OutputSink). */
const WINDOW = 1 << 20;

/**
 * Our own stdout or stderr under the stream pump. Bun's streams report no
 * queue (writableLength stays 0 while write() returns false) and call every
 * write's callback together once all is written, so the queue is kept here:
 * at most WINDOW bytes are handed to the stream at a time, and the callback
 * of the last one says the reader took them. As with the native copier, a
 * reader that keeps taking output paces the child and loses nothing; one that
 * takes nothing for STUCK_MS with the queue full is stuck, and only then is
 * output dropped.
 */
export class OutputSink {
  readonly stats: SinkStats = { bytes: 0, droppedBytes: 0, closed: false };
  /** Bytes accepted and not yet written (in flight or waiting here). */
  queued = 0;
  private waiting: Uint8Array[] = [];
  private inFlight = 0;
  private stuck = false;
  private lastProgress = performance.now();
  private waiters: (() => void)[] = [];

  /** `beforeChild` runs before each of the child's chunks is queued (the status line clears itself). */
  constructor(private stream: NodeJS.WriteStream, private onClosed?: (why: string) => void,
    private beforeChild?: () => void) {
    stream.on("error", (e: Error) => this.close((e as NodeJS.ErrnoException).code ?? e.message));
  }

  write(chunk: Uint8Array): void {
    if (this.beforeChild) {
      try {
        this.beforeChild();
      } catch { /* its fault is its own */ }
    }
    this.queue(chunk);
  }

  /** Our own text, queued behind the child's output (see setStderrWriter). */
  writeText(text: string): void {
    this.queue(Buffer.from(text));
  }

  private queue(chunk: Uint8Array): void {
    const n = chunk.byteLength;
    if (this.stats.closed || (this.stuck && this.queued + n > MAX_QUEUED)) {
      this.stats.droppedBytes += n;
      return;
    }
    this.waiting.push(chunk);
    this.queued += n;
    this.send();
  }

  /** Hands the next window to the stream once the last one is written. */
  private send(): void {
    if (this.inFlight || !this.waiting.length || this.stats.closed) return;
    this.lastProgress = performance.now(); // the reader's clock starts now
    let n = 0;
    const batch: Uint8Array[] = [];
    while (this.waiting.length && (n === 0 || n + this.waiting[0].byteLength <= WINDOW)) {
      const c = this.waiting.shift()!;
      batch.push(c);
      n += c.byteLength;
    }
    this.inFlight = n;
    try {
      for (let i = 0; i < batch.length - 1; i++) this.stream.write(batch[i]);
      this.stream.write(batch[batch.length - 1], (err?: Error | null) => {
        if (err) return this.close((err as NodeJS.ErrnoException).code ?? err.message);
        this.inFlight = 0;
        this.queued -= n;
        this.stats.bytes += n;
        this.stuck = false;
        this.wakeWaiters();
        this.send();
      });
    } catch (e) {
      this.close((e as NodeJS.ErrnoException).code ?? String(e));
    }
  }

  /** True when the caller should wait (`waitBelow`) before reading more of the child's output. */
  get full(): boolean {
    return this.queued >= MAX_QUEUED && !this.stats.closed && !this.stuck;
  }

  /**
   * Resolves once the queue is below `limit` bytes, the stream is closed, or
   * the reader has taken nothing for STUCK_MS (then the sink is stuck).
   */
  async waitBelow(limit: number): Promise<void> {
    while (this.queued > limit && !this.stats.closed && !this.stuck) {
      const idle = performance.now() - this.lastProgress;
      if (idle >= STUCK_MS) {
        this.stuck = true;
        break;
      }
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, STUCK_MS - idle + 1);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Everything queued written out, or given up on a reader that takes nothing for STUCK_MS. */
  drained(): Promise<void> {
    return this.waitBelow(0);
  }

  private close(why: string): void {
    if (this.stats.closed) return;
    this.stats.closed = true;
    this.stats.droppedBytes += this.queued; // what was queued is lost with the stream
    this.queued = 0;
    this.inFlight = 0;
    this.waiting = [];
    this.wakeWaiters();
    this.onClosed?.(why);
  }

  private wakeWaiters(): void {
    for (const w of this.waiters.splice(0)) w();
  }
}

/**
 * Copies a child stream to `sink` until its end; `onChunk` failures never stop
 * the copy. A full sink pauses reading, so a slow reader paces the child as a
 * pipe would.
 */
export class StreamPump {
  /** "paced": waiting for our reader; "reading": waiting for the child; "done": at the end of the stream. */
  state: "reading" | "paced" | "done" = "reading";
  readonly done: Promise<void>;

  constructor(stream: ReadableStream<Uint8Array>, readonly sink: OutputSink, onChunk: (chunk: Uint8Array) => void) {
    this.done = this.run(stream, onChunk);
  }

  private async run(stream: ReadableStream<Uint8Array>, onChunk: (chunk: Uint8Array) => void): Promise<void> {
    const reader = stream.getReader();
    let parse = true;
    for (;;) {
      if (this.sink.full) {
        this.state = "paced";
        await this.sink.waitBelow(MAX_QUEUED / 2);
      }
      this.state = "reading";
      let r;
      try {
        r = await reader.read();
      } catch {
        break;
      }
      if (r.done) break;
      const chunk = r.value;
      this.sink.write(chunk);
      if (parse) {
        try {
          onChunk(chunk);
        } catch {
          parse = false; // a parser fault costs the trace, never the output
        }
      }
    }
    this.state = "done";
  }

  /**
   * After the child has exited: resolves once what the child wrote is written
   * out. A stream still open after `openMs` without data (a grandchild holds
   * the pipe) is not waited for; a reader that takes nothing is (STUCK_MS).
   */
  async settle(openMs = 100): Promise<void> {
    let waitingSince: number | null = null;
    for (;;) {
      if (this.state === "done" || this.sink.stats.closed) return this.sink.drained();
      if (this.state === "reading") {
        waitingSince ??= performance.now();
        if (performance.now() - waitingSince > openMs) return this.sink.drained();
      } else waitingSince = null;
      await Bun.sleep(20);
    }
  }
}

/** The stream pump over Bun's own pipe to the child. */
export function pump(stream: ReadableStream<Uint8Array>, sink: OutputSink, onChunk: (chunk: Uint8Array) => void): StreamPump {
  return new StreamPump(stream, sink, onChunk);
}

/** The stream pump over a pipe the tracer made itself (when a native copier cannot start). */
export function pumpFd(fd: number, sink: OutputSink, onChunk: (chunk: Uint8Array) => void): StreamPump {
  return new StreamPump(Bun.file(fd).stream() as ReadableStream<Uint8Array>, sink, onChunk);
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
  /** Where only the stderr copier could not start: the child's stderr under the stream pump. */
  private errPump: StreamPump | null = null;

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
      const errSink = new OutputSink(process.stderr);
      setStderrWriter((text) => errSink.writeText(text)); // our messages keep their place among the child's
      this.errPump = pumpFd(fds.err, errSink, (c) => {
        childStderrChunk(c);
        onChunk(2, c, performance.timeOrigin + performance.now());
      });
      errDone = this.errPump.done;
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
    await Promise.all([...[this.stdout, this.stderr].filter((s) => s?.draining).map((s) => s!.finished),
      this.errPump?.settle()]);
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
