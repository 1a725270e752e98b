// The fast passthrough (Linux): one thread per child stream copies the child's
// pipe to our own stdout/stderr with blocking read(2) and write(2) through
// bun:ffi — two system calls per chunk, as `cat` does, and no JavaScript on the
// main thread per chunk. What the parser needs is left, with each chunk's
// arrival time, in a shared ring buffer that the main thread empties every
// PULL_MS; that costs the parser a few ms of delay, never the child anything.
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
// - once the start-up has ended, nothing is copied into the ring at all.

export const RING_BYTES = 1 << 20; // power of two; 50 MB/s at PULL_MS = 20 before the parser skips bytes
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

const WORKER_SOURCE = String.raw`
import { dlopen, FFIType, ptr, read as peek } from "bun:ffi";
const T = FFIType;
const libc = dlopen("libc.so.6", {
  read: { args: [T.i32, T.ptr, T.u64], returns: T.i32 },
  write: { args: [T.i32, T.ptr, T.u64], returns: T.i32 },
  pwritev2: { args: [T.i32, T.ptr, T.i32, T.i64, T.i32], returns: T.i32 },
  usleep: { args: [T.u32], returns: T.i32 },
  poll: { args: [T.ptr, T.u64, T.i32], returns: T.i32 },
  close: { args: [T.i32], returns: T.i32 },
  __errno_location: { args: [], returns: T.ptr },
});
const S = libc.symbols;
const errnoPtr = S.__errno_location();
const errno = () => peek.i32(errnoPtr, 0);
const EINTR = 4, EAGAIN = 11, EINVAL = 22, EOPNOTSUPP = 95, RWF_NOWAIT = 8;

self.onmessage = (e) => {
  const { inFd, outFd, ctlBuf, numBuf, ringBuf, recBuf, ringBytes, records, maxQueued, stuckMs, lineKeep } = e.data;
  const ctl = new Int32Array(ctlBuf);
  const num = new Float64Array(numBuf);
  const ring = new Uint8Array(ringBuf);
  const rec = new Float64Array(recBuf);
  const mask = ringBytes - 1;
  const buf = new Uint8Array(1 << 18);
  const base = ptr(buf);
  const iovBuf = new ArrayBuffer(16);
  const iov32 = new Uint32Array(iovBuf);
  const iovPtr = ptr(iov32);
  const pfd = new Int32Array(4);
  const pfd16 = new Int16Array(pfd.buffer);
  const pfdPtr = ptr(pfd);
  let nowait = true;       // our stream takes RWF_NOWAIT (a pipe); false: plain write
  let closed = false;
  const queue = [];        // output waiting for our stream
  let queued = 0;
  let stuck = false;       // the reader took nothing for stuckMs with the queue full
  let lineLen = 0;         // bytes of the current (unfinished) line seen so far
  const origin = performance.timeOrigin;

  const fail = (err) => {
    if (!closed) { closed = true; Atomics.store(ctl, ${C_ERRNO}, err); Atomics.store(ctl, ${C_CLOSED}, 1); }
    num[${N_DROPPED}] += queued;
    queue.length = 0;
    queued = 0;
  };
  // Writes p[0..n) without blocking where the stream allows it; returns bytes written, -1 when it would block.
  const put = (p, n) => {
    for (;;) {
      let w;
      if (nowait) {
        const a = p;
        iov32[0] = a >>> 0; iov32[1] = Math.floor(a / 4294967296); iov32[2] = n >>> 0; iov32[3] = 0;
        w = S.pwritev2(outFd, iovPtr, 1, -1, RWF_NOWAIT);
      } else w = S.write(outFd, p, n);
      if (w >= 0) return w;
      const err = errno();
      if (err === EINTR) continue;
      if (err === EAGAIN) return -1;
      if (nowait && (err === EOPNOTSUPP || err === EINVAL)) { nowait = false; continue; }
      fail(err);
      return n;
    }
  };
  const enqueue = (start, n) => {
    // Beyond the queue's size only while the reader is stuck: otherwise reading pauses (below).
    if (stuck && queued + n > maxQueued) { num[${N_DROPPED}] += n; return; }
    queue.push(buf.slice(start, start + n));
    queued += n;
  };
  const flushQueue = () => {
    while (queue.length && !closed) {
      const q = queue[0];
      const w = put(ptr(q), q.length);
      if (closed) return;
      if (w < 0) return;
      if (w > 0) stuck = false;
      num[${N_WRITTEN}] += w;
      queued -= w;
      if (w < q.length) { queue[0] = q.subarray(w); return; }
      queue.shift();
    }
  };
  const output = (n) => {
    if (closed) { num[${N_DROPPED}] += n; return; }
    if (queue.length) { enqueue(0, n); flushQueue(); return; }
    let off = 0;
    while (off < n) {
      const w = put(base + off, n - off);
      if (closed) { num[${N_DROPPED}] += n - off; return; }
      if (w < 0) { enqueue(off, n - off); return; }
      num[${N_WRITTEN}] += w;
      off += w;
    }
  };
  // First / last "\n" or "\r" in buf[0..n), -1 for none; a "\r" is looked for only
  // where it could come first / last, so a chunk is scanned about once.
  const firstBreak = (n) => {
    const nl = buf.subarray(0, n).indexOf(10);
    const cr = buf.subarray(0, nl < 0 ? n : nl).indexOf(13);
    return cr < 0 ? nl : cr;
  };
  const lastBreak = (n) => {
    if (buf[n - 1] === 10) return n - 1; // the usual chunk: whole lines
    const nl = buf.subarray(0, n).lastIndexOf(10);
    const cr = buf.subarray(nl + 1, n).lastIndexOf(13);
    return cr < 0 ? nl : nl + 1 + cr;
  };
  const copyIn = (from, to, at) => {
    const n = to - from;
    const pos = at & mask;
    const first = Math.min(n, ringBytes - pos);
    ring.set(buf.subarray(from, from + first), pos);
    if (first < n) ring.set(buf.subarray(from + first, to), 0);
    return (at + n) | 0;
  };
  const toParser = (n, now) => {
    if (Atomics.load(ctl, ${C_PARSE}) === 0) return;
    // What of buf[0..n) the parser needs: all of it, except the part of a line
    // that runs on past lineKeep bytes (head = the current line's share of this chunk).
    let headKeep = n, restFrom = n;
    if (lineLen + n > lineKeep) {
      const f = firstBreak(n);
      const room = Math.max(0, lineKeep - lineLen);
      if (f < 0) { headKeep = Math.min(n, room); lineLen += n; }
      else { headKeep = Math.min(f, room); restFrom = f; lineLen = n - lastBreak(n) - 1; }
    } else {
      const l = lastBreak(n);
      lineLen = l < 0 ? lineLen + n : n - l - 1;
    }
    const take = headKeep + (n - restFrom);
    if (take === 0) return;
    const head = ctl[${C_HEAD}];
    const rhead = ctl[${C_RHEAD}];
    if (((head - Atomics.load(ctl, ${C_TAIL})) | 0) + take > ringBytes || ((rhead - Atomics.load(ctl, ${C_RTAIL})) | 0) >= records) {
      Atomics.add(ctl, ${C_GAPS}, 1);
      return;
    }
    let end = copyIn(0, headKeep, head);
    if (restFrom < n) end = copyIn(restFrom, n, end);
    const r = (rhead & (records - 1)) * 2;
    rec[r] = end;
    rec[r + 1] = origin + now;
    Atomics.store(ctl, ${C_HEAD}, end);
    Atomics.store(ctl, ${C_RHEAD}, (rhead + 1) | 0);
    // The main thread pulls less often while the output is quiet: a burst that
    // fills half the ring asks it to pull now (once until it has pulled).
    if ((((end - Atomics.load(ctl, ${C_TAIL})) | 0) > ringBytes >> 1 || ((rhead + 1 - Atomics.load(ctl, ${C_RTAIL})) | 0) > records >> 1)
      && Atomics.compareExchange(ctl, ${C_WAKE}, 0, 1) === 0) postMessage("pull");
  };

  let lastRead = 0;
  for (;;) {
    if (queued >= maxQueued && !closed && !stuck) {
      // The queue is full: let the reader pace the child (as it would without
      // us) as long as it takes something; one that takes nothing is stuck.
      pfd[0] = outFd; pfd16[2] = 4; pfd16[3] = 0;
      const r = S.poll(pfdPtr, 1, stuckMs);
      if (r < 0 && errno() !== EINTR) { fail(errno()); continue; }
      if (r === 0) stuck = true;
      else if (r > 0) flushQueue();
      continue;
    }
    if (queue.length && !closed) {
      // Wait for the child's output or for room in ours, whichever comes first.
      pfd[0] = inFd; pfd16[2] = 1; pfd16[3] = 0;
      pfd[2] = outFd; pfd16[6] = 4; pfd16[7] = 0;
      const r = S.poll(pfdPtr, 2, -1);
      if (r < 0 && errno() !== EINTR) { fail(errno()); continue; }
      if (pfd16[7] !== 0) flushQueue();
      if (pfd16[3] === 0) continue;
    }
    const n = S.read(inFd, base, buf.length);
    if (n < 0) { if (errno() === EINTR) continue; break; }
    if (n === 0) break;
    num[${N_READ}] += n;
    ctl[${C_MIDLINE}] = buf[n - 1] === 10 ? 0 : 1;
    const now = performance.now();
    output(n);
    toParser(n, now);
    // A child printing line after line (a DEBUG start-up) would cost two system
    // calls per line, as in cat. While the output comes that fast, wait a
    // moment after each write so that the next read takes many lines at once:
    // a line waits at most COALESCE_US longer, far below the 1 ms budget.
    if (now - lastRead < ${FLOOD_MS} && n < buf.length >> 2) S.usleep(${COALESCE_US});
    lastRead = now;
  }
  // End of the child's output: what is still queued is written out while the
  // reader keeps taking it; a reader that takes nothing for stuckMs loses the rest.
  Atomics.store(ctl, ${C_DRAINING}, 1);
  let until = Date.now() + stuckMs;
  while (queue.length && !closed && Date.now() < until) {
    pfd[0] = outFd; pfd16[2] = 4; pfd16[3] = 0;
    S.poll(pfdPtr, 1, 50);
    const before = queued;
    flushQueue();
    if (queued < before) until = Date.now() + stuckMs;
  }
  if (queued) num[${N_DROPPED}] += queued;
  S.close(inFd);
  Atomics.store(ctl, ${C_EOF}, 1);
  postMessage("eof");
};
`;

export interface FastStreamStats {
  bytes: number;
  droppedBytes: number;
  closed: boolean;
  /** errno that closed our stream (32 = EPIPE). */
  errno: number;
  /** Times the parser's ring was full and bytes were not parsed. */
  parserGaps: number;
}

/** One child stream copied by its own thread. */
export class FastStream {
  private ctl: Int32Array;
  private num: Float64Array;
  private ring: Uint8Array;
  private rec: Float64Array;
  private worker: Worker;
  readonly finished: Promise<void>;

  constructor(inFd: number, outFd: number) {
    const ctlBuf = new SharedArrayBuffer(16 * 4);
    const numBuf = new SharedArrayBuffer(4 * 8);
    const ringBuf = new SharedArrayBuffer(RING_BYTES);
    const recBuf = new SharedArrayBuffer(RECORDS * 2 * 8);
    this.ctl = new Int32Array(ctlBuf);
    this.num = new Float64Array(numBuf);
    this.ring = new Uint8Array(ringBuf);
    this.rec = new Float64Array(recBuf);
    this.ctl[C_PARSE] = 1;
    this.worker = new Worker(workerUrl());
    this.finished = new Promise<void>((resolve) => {
      this.worker.addEventListener("message", (e) => {
        if ((e as MessageEvent).data === "pull") this.onWake?.();
        else resolve();
      });
      this.worker.addEventListener("error", () => resolve());
    });
    this.worker.postMessage({ inFd, outFd, ctlBuf, numBuf, ringBuf, recBuf, ringBytes: RING_BYTES, records: RECORDS, maxQueued: MAX_QUEUED,
      stuckMs: STUCK_MS, lineKeep: LINE_KEEP });
    (this.worker as unknown as { unref?: () => void }).unref?.();
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

let url: string | null = null;
function workerUrl(): string {
  url ??= URL.createObjectURL(new Blob([WORKER_SOURCE], { type: "application/javascript" }));
  return url;
}
