// The fast passthrough (Linux x86-64): one native thread per child stream
// copies the child's pipe to our own stdout/stderr with blocking read(2) and
// write(2), as `cat` does. The thread's loop is C (./copier.c), compiled when
// the tracer starts by the TinyCC that Bun embeds (bun:ffi cc, ~3 ms): a
// JavaScript Worker doing the same cost 1.5-2x cat per line and ~30 ms to start
// (bench/NOTES.md). What the parser needs is left, with each chunk's arrival
// time, in a ring buffer that the main thread empties on its heartbeat; that
// costs the parser up to one beat of delay, never the child anything.
//
// Never harm the server:
// - the child's pipe is drained: when our own stream is full (a slow reader)
//   writes are non-blocking (pwritev2 RWF_NOWAIT) and what does not fit waits
//   in a queue while the copier goes on reading. A reader that is slow but
//   reads gets 32 MiB of slack, then paces the child as it would without the
//   tracer (nothing is lost); one that takes nothing for STUCK_MS is stuck: its
//   output beyond the queue is dropped and counted and the child is not held
//   up again until the reader takes something. When our stream is closed
//   (EPIPE) the output is dropped and counted, and parsing goes on;
// - at the end of the child's output the queue is written out as long as the
//   reader keeps taking it (wrap mode waits for that before exiting);
// - the parser's ring never blocks the copier: when the main thread falls
//   behind, the parser loses those bytes (counted), the passthrough nothing.
//   The middle of an over-long line (beyond LINE_KEEP bytes, which the line
//   splitter would drop anyway) is not copied into the ring, so a 64 MiB line
//   cannot crowd out the marker lines that follow it;
// - once the start-up has ended, nothing is copied into the ring at all;
// - where the copier cannot be compiled or started, the caller copies the
//   pipes with Bun's own streams instead (./passthrough.ts).
import COPIER_SOURCE from "./copier.c" with { type: "text" };

export const RING_BYTES = 1 << 20; // power of two; a ring half full wakes the main thread early
const RECORDS = 1 << 13;
/** Output waiting for a slow reader of our own stream before the child is paced by it. */
export const MAX_QUEUED = 32 << 20;
/** A reader of our stream that takes nothing for this long, with the queue full, is stuck. */
export const STUCK_MS = 1000;
/** Bytes of one line the parser gets at most (more than the line splitter keeps: 4 x MAX_LINE_CHARS). */
export const LINE_KEEP = 1 << 17;

// Control words (Int32) per stream.
const C_HEAD = 0, C_TAIL = 1, C_PARSE = 2, C_GAPS = 3, C_CLOSED = 4, C_MIDLINE = 5, C_EOF = 6, C_RHEAD = 7, C_RTAIL = 8, C_ERRNO = 9,
  C_DRAINING = 10, C_WAKE = 11;
// Counters (Float64) per stream.
const N_WRITTEN = 0, N_DROPPED = 1, N_READ = 2;

/** Chunks that arrived within this long of each other reach the parser as one (see FastStream.pull). */
const MERGE_MS = 2;
/** At most this many bytes in one merged chunk. */
const MERGE_MAX = 1 << 18;

/** Reads closer together than this mean a flood of output (see below). */
const FLOOD_MS = 2;
/** The pause after a write during a flood, so that the next read takes what came meanwhile. */
export const COALESCE_US = 250;

export interface FastStreamStats {
  bytes: number;
  droppedBytes: number;
  closed: boolean;
  /** errno that closed our stream (32 = EPIPE). */
  errno: number;
  /** Times the parser's ring was full and bytes were not parsed. */
  parserGaps: number;
}

type Ffi = typeof import("bun:ffi");
interface Copier {
  ffi: Ffi;
  newBlock: (ringBytes: number, records: number) => number | null;
  start: (block: number) => number;
  monoMs: () => number;
  pipe: () => [number, number];
}
let copier: Copier | null = null;

/**
 * Compiles ./copier.c (once). The source goes to TinyCC through a memfd, so no
 * file is written anywhere (the state directory may be full or read-only).
 * Throws where that is not possible: not Linux x86-64, no memfd, no cc.
 */
function loadCopier(): Copier {
  if (copier) return copier;
  if (process.platform !== "linux" || process.arch !== "x64") throw new Error(`no native copier on ${process.platform}/${process.arch}`);
  if (process.env.STARTUP_TRACER_NATIVE_COPIER === "0") throw new Error("STARTUP_TRACER_NATIVE_COPIER=0");
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const ffi = require("bun:ffi") as Ffi;
  const { dlopen, FFIType: T, ptr, cc } = ffi;
  const libc = dlopen("libc.so.6", {
    memfd_create: { args: [T.ptr, T.u32], returns: T.i32 },
    write: { args: [T.i32, T.ptr, T.u64], returns: T.i64 },
    close: { args: [T.i32], returns: T.i32 },
    pipe2: { args: [T.ptr, T.i32], returns: T.i32 },
  });
  const S = libc.symbols;
  const name = new TextEncoder().encode("startup-tracer-copier.c\0");
  const fd = S.memfd_create(ptr(name), 1 /* MFD_CLOEXEC */);
  if (fd < 0) throw new Error("memfd_create failed");
  let lib;
  try {
    const src = new TextEncoder().encode(COPIER_SOURCE);
    if (Number(S.write(fd, ptr(src), src.length)) !== src.length) throw new Error("cannot write the copier source");
    lib = cc({
      source: `/proc/self/fd/${fd}`,
      symbols: {
        st_new: { args: [T.i32, T.i32], returns: T.ptr },
        st_start: { args: [T.ptr], returns: T.i32 },
        st_mono_ms: { args: [], returns: T.f64 },
      },
    });
  } finally {
    S.close(fd);
  }
  const L = lib.symbols;
  const fds = new Int32Array(2);
  copier = {
    ffi,
    newBlock: (r, n) => (L.st_new(r, n) as number | null) || null,
    start: (b) => L.st_start(b as unknown as import("bun:ffi").Pointer),
    monoMs: () => L.st_mono_ms(),
    pipe: () => {
      if (S.pipe2(ptr(fds), 0o2004000 /* O_CLOEXEC | O_NONBLOCK */) !== 0) throw new Error("pipe2 failed");
      return [fds[0], fds[1]];
    },
  };
  return copier;
}

const HEADER = 256;

/** One child stream copied by its own native thread. */
export class FastStream {
  private ctl: Int32Array;
  private num: Float64Array;
  private ring: Uint8Array;
  private rec: Float64Array;
  readonly finished: Promise<void>;

  /** Starts the copier for inFd -> outFd; throws where it cannot (the caller falls back to Bun's streams). */
  constructor(inFd: number, outFd: number) {
    const c = loadCopier();
    const bytes = HEADER + RECORDS * 16 + RING_BYTES;
    const block = c.newBlock(RING_BYTES, RECORDS);
    if (!block) throw new Error("out of memory for the copier");
    // A view on memory the C side owns (never freed: it lives as long as the process).
    const ab = c.ffi.toArrayBuffer(block as unknown as import("bun:ffi").Pointer, 0, bytes);
    this.ctl = new Int32Array(ab, 0, 16);
    this.num = new Float64Array(ab, 64, 4);
    const cfg = new Int32Array(ab, 96, 8);
    this.rec = new Float64Array(ab, HEADER, RECORDS * 2);
    this.ring = new Uint8Array(ab, HEADER + RECORDS * 16, RING_BYTES);
    const [wakeR, wakeW] = c.pipe();
    cfg.set([inFd, outFd, wakeW, RING_BYTES, RECORDS, MAX_QUEUED, STUCK_MS, LINE_KEEP]);
    // Arrival times: CLOCK_MONOTONIC in the thread, on the clock of performance.timeOrigin + now().
    new Float64Array(ab, 128, 1)[0] = performance.timeOrigin + performance.now() - c.monoMs();
    new Int32Array(ab, 136, 2).set([FLOOD_MS, COALESCE_US]);
    this.ctl[C_PARSE] = 1;
    if (c.start(block) !== 0) throw new Error("cannot start the copier thread");
    // The wake pipe: "p" asks for a pull now (a ring half full); its end is the end of the copier.
    this.finished = (async () => {
      try {
        const reader = Bun.file(wakeR).stream().getReader();
        for (;;) {
          const r = await reader.read();
          if (r.done) break;
          this.onWake?.();
        }
      } catch { /* the end, as far as we can tell */ }
      // The stream's end may come before the EOF word is seen: wait for it briefly.
      for (let i = 0; i < 50 && !this.eof; i++) await Bun.sleep(2);
    })();
  }

  /** Called when the ring is half full (pull now rather than at the next timer). */
  onWake: (() => void) | null = null;

  /** Hands every chunk the copier has left for the parser, oldest first, with its arrival time; returns how many. */
  pull(onChunk: (chunk: Uint8Array, tMs: number) => void): number {
    const ctl = this.ctl;
    const rhead = Atomics.load(ctl, C_RHEAD);
    let rtail = ctl[C_RTAIL];
    Atomics.store(ctl, C_WAKE, 0);
    if (rtail === rhead) return 0;
    const count = (rhead - rtail) | 0;
    let pos = ctl[C_TAIL];
    const mask = RING_BYTES - 1;
    // Chunks that arrived within MERGE_MS of the first of a run go to the parser
    // as one (with that first arrival time): in a flood of small reads this is
    // one decode and one line scan per run instead of per read.
    let runFrom = pos;
    let runT = NaN;
    const emit = (from: number, to: number, t: number) => {
      const n = (to - from) | 0;
      if (n <= 0) return;
      const at = from & mask;
      let chunk: Uint8Array;
      // A view, not a copy: the copier reuses these bytes only after C_TAIL moves
      // past them (below), and onChunk consumes a chunk before it returns (the
      // line splitter decodes it at once; whoever keeps one copies it).
      if (at + n <= RING_BYTES) chunk = this.ring.subarray(at, at + n);
      else {
        chunk = new Uint8Array(n);
        chunk.set(this.ring.subarray(at, RING_BYTES));
        chunk.set(this.ring.subarray(0, n - (RING_BYTES - at)), RING_BYTES - at);
      }
      try {
        onChunk(chunk, t);
      } catch { /* a parser fault costs the trace, never the output */ }
    };
    while (rtail !== rhead) {
      const r = (rtail & (RECORDS - 1)) * 2;
      const end = this.rec[r] | 0;
      const t = this.rec[r + 1];
      if (!(t - runT <= MERGE_MS) || ((end - runFrom) | 0) > MERGE_MAX) {
        emit(runFrom, pos, runT);
        runFrom = pos;
        runT = t;
      }
      pos = end;
      rtail = (rtail + 1) | 0;
    }
    emit(runFrom, pos, runT);
    Atomics.store(ctl, C_TAIL, pos);
    Atomics.store(ctl, C_RTAIL, rtail);
    return count;
  }

  /** Stops handing output to the parser (the start-up is over). */
  stopParsing(): void {
    Atomics.store(this.ctl, C_PARSE, 0);
  }

  /** Whether the last byte of the child's output written so far ended a line. */
  get midLine(): boolean {
    return this.ctl[C_MIDLINE] === 1;
  }

  get eof(): boolean {
    return Atomics.load(this.ctl, C_EOF) === 1;
  }

  /** The child's output has ended and the copier is writing out what is still queued. */
  get draining(): boolean {
    return Atomics.load(this.ctl, C_DRAINING) === 1 && !this.eof;
  }

  get stats(): FastStreamStats {
    return {
      bytes: this.num[N_WRITTEN], droppedBytes: this.num[N_DROPPED], closed: this.ctl[C_CLOSED] === 1,
      errno: this.ctl[C_ERRNO], parserGaps: this.ctl[C_GAPS],
    };
  }
}
