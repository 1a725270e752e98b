// Follow a growing log file like `tail -F`, for the Kubernetes sidecar mode
// (`startup-tracer follow /logs/vllm.log`).
//
// - The file may not exist yet: poll until it appears ("waiting", then "opened").
// - Truncation (size drops below what was read, e.g. copytruncate or `: > file`): re-read from 0
//   ("truncated"). A truncation followed by a rewrite to at least the old size between two polls
//   cannot be seen — the same limit as tail -F.
// - Rotation (the path now names another inode, e.g. rename + recreate): finish reading the old
//   file descriptor to EOF, close it, then open the new file and read it from 0 ("rotated",
//   then "opened"). While the path is missing after a rename the old descriptor keeps being read,
//   since the writer may still be appending to it.
// - Reads with openSync/readSync into one reusable buffer, bounded per poll, so a large file is
//   never held in memory and a large backlog does not block the event loop for long.
// - Never throws out of its timer: errors (including from callbacks) go to opts.onError.
//
// Every byte of each file is delivered exactly once, in order, through onChunk. The Uint8Array
// passed to onChunk is a fresh copy the callee may keep.

import { closeSync, fstatSync, openSync, readSync, statSync } from "node:fs";

export type FollowEvent = "waiting" | "opened" | "truncated" | "rotated";

export interface FollowOptions {
  onChunk: (buf: Uint8Array) => void;
  /** Poll interval in ms (default 100). */
  pollMs?: number;
  /** Read an existing file from its start (default true); false = start at its current end.
   *  Only applies to the file found at the first open; files appearing later (created late,
   *  rotated in) are always read from 0. */
  fromStart?: boolean;
  signal?: AbortSignal;
  onEvent?: (e: FollowEvent) => void;
  /** Errors that would otherwise be swallowed (stat/open/read failures, callback throws). */
  onError?: (err: unknown) => void;
  /** Read buffer size in bytes (default 64 KiB). */
  bufferSize?: number;
  /** Max bytes read per poll before yielding to the event loop (default 4 MiB). */
  maxBytesPerPoll?: number;
}

export interface FileFollower {
  stop(): void;
}

function isNotFound(err: unknown): boolean {
  const code = (err as { code?: string } | null)?.code;
  return code === "ENOENT" || code === "ENOTDIR";
}

export function followFile(path: string, opts: FollowOptions): FileFollower {
  const pollMs = Math.max(1, opts.pollMs ?? 100);
  const maxPerPoll = Math.max(1, opts.maxBytesPerPoll ?? 4 * 1024 * 1024);
  const buf = new Uint8Array(Math.max(1, opts.bufferSize ?? 64 * 1024));

  let fd: number | null = null;
  let ino = 0;
  let dev = 0;
  let pos = 0;
  let firstOpen = true;
  let waiting = false; // "waiting" emitted for the current absence
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | null = null;
  let lastErrorKey = "";

  const report = (err: unknown) => {
    if (!opts.onError) return;
    try {
      opts.onError(err);
    } catch {
      /* never let the error handler break the loop */
    }
  };
  // Repeated identical failures (e.g. EACCES every poll) are reported once.
  const reportOnce = (err: unknown) => {
    const key = `${(err as { code?: string })?.code ?? ""}:${(err as Error)?.message ?? String(err)}`;
    if (key === lastErrorKey) return;
    lastErrorKey = key;
    report(err);
  };
  const emit = (e: FollowEvent) => {
    if (!opts.onEvent) return;
    try {
      opts.onEvent(e);
    } catch (err) {
      report(err);
    }
  };
  const deliver = (n: number) => {
    const copy = buf.slice(0, n);
    try {
      opts.onChunk(copy);
    } catch (err) {
      report(err);
    }
  };

  const closeFd = () => {
    if (fd === null) return;
    try {
      closeSync(fd);
    } catch (err) {
      report(err);
    }
    fd = null;
  };

  /** Read from fd at pos up to budget bytes. Returns true at EOF, false when the budget ran out. */
  const drain = (budget: number): { eof: boolean; used: number } => {
    let used = 0;
    while (!stopped && fd !== null) {
      if (used >= budget) return { eof: false, used };
      const want = Math.min(buf.length, budget - used);
      const n = readSync(fd, buf, 0, want, pos);
      if (n <= 0) return { eof: true, used };
      pos += n;
      used += n;
      deliver(n);
    }
    return { eof: true, used };
  };

  /** Try to open the path; returns false when it does not exist (yet). */
  const tryOpen = (): boolean => {
    let newFd: number;
    try {
      newFd = openSync(path, "r");
    } catch (err) {
      if (!isNotFound(err)) reportOnce(err);
      if (!waiting) {
        waiting = true;
        emit("waiting");
      }
      return false;
    }
    try {
      const st = fstatSync(newFd);
      if (!st.isFile()) {
        closeSync(newFd);
        reportOnce(new Error(`${path} is not a regular file`));
        if (!waiting) {
          waiting = true;
          emit("waiting");
        }
        return false;
      }
      fd = newFd;
      ino = Number(st.ino);
      dev = Number(st.dev);
      pos = firstOpen && opts.fromStart === false ? st.size : 0;
    } catch (err) {
      try {
        closeSync(newFd);
      } catch {
        /* ignore */
      }
      reportOnce(err);
      return false;
    }
    firstOpen = false;
    waiting = false;
    lastErrorKey = "";
    emit("opened");
    return true;
  };

  /** One poll. Returns the delay before the next one. */
  const poll = (): number => {
    if (fd === null && !tryOpen()) return pollMs;
    let budget = maxPerPoll;
    // Bounded loop: at most a couple of file switches per poll.
    for (let round = 0; round < 4 && !stopped && fd !== null; round++) {
      // Truncation: the file we hold is now shorter than what we have read.
      const size = fstatSync(fd).size;
      if (size < pos) {
        pos = 0;
        emit("truncated");
      }
      const r = drain(budget);
      budget -= r.used;
      if (!r.eof) return 0; // backlog left: continue soon, let the event loop breathe
      if (stopped) return pollMs;

      // Rotation: does the path still name the inode we hold?
      let st: ReturnType<typeof statSync> | null = null;
      try {
        st = statSync(path);
      } catch (err) {
        if (!isNotFound(err)) reportOnce(err);
        st = null; // moved away or deleted: keep reading the old fd until a new file appears
      }
      if (st === null || (Number(st.ino) === ino && Number(st.dev) === dev)) return pollMs;

      // Replaced. Finish the old descriptor (writes may have landed since the drain above).
      const tail = drain(budget);
      budget -= tail.used;
      if (!tail.eof) return 0;
      closeFd();
      emit("rotated");
      if (!tryOpen()) return pollMs;
      if (budget <= 0) return 0;
    }
    return pollMs;
  };

  const schedule = (ms: number) => {
    if (stopped) return;
    timer = setTimeout(tick, ms);
  };

  const tick = () => {
    timer = null;
    if (stopped) return;
    let next = pollMs;
    try {
      next = poll();
    } catch (err) {
      // e.g. the fd became unreadable: drop it and start over from the path, reading the
      // (possibly new) file from where we were if it is the same inode.
      reportOnce(err);
      next = pollMs;
    }
    schedule(next);
  };

  const stop = () => {
    if (stopped) return;
    stopped = true;
    if (timer !== null) clearTimeout(timer);
    timer = null;
    closeFd();
    opts.signal?.removeEventListener("abort", stop);
  };

  if (opts.signal?.aborted) {
    stopped = true;
    return { stop };
  }
  opts.signal?.addEventListener("abort", stop, { once: true });
  schedule(0);
  return { stop };
}
