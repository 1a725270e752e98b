// Small synchronous reads of /proc and /sys files. They cost a few microseconds
// each (measured: 2-6 us for /proc/stat, /proc/<pid>/stat, /proc/<pid>/io under
// Bun 1.4.5), far less than any asynchronous round trip, so the hot path reads
// them synchronously. Never throws: a missing or unreadable file is reported
// through the returned error code.

import { closeSync, openSync, readFileSync, readSync, readdirSync } from "node:fs";

export interface ReadResult {
  text: string | null;
  /** errno code ("ENOENT", "EACCES", "ESRCH", ...) when text is null. */
  code: string | null;
}

export function readProc(path: string): ReadResult {
  try {
    return { text: readFileSync(path, "latin1"), code: null };
  } catch (e) {
    return { text: null, code: (e as NodeJS.ErrnoException)?.code ?? "EIO" };
  }
}

export function readProcText(path: string): string | null {
  try {
    return readFileSync(path, "latin1");
  } catch {
    return null;
  }
}

export function listDir(path: string): string[] | null {
  try {
    return readdirSync(path);
  } catch {
    return null;
  }
}

/** Epoch milliseconds at high resolution. */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

// ---- Hot path: persistent descriptors, one shared buffer, byte-level parsing ----
// Re-reading a /proc file through an fd kept open (pread at offset 0 regenerates
// the content) avoids open/close per sample, and parsing bytes directly avoids
// per-sample string allocations (and so GC work).


let shared = Buffer.allocUnsafe(256 * 1024);

/** The buffer the last ProcFile.read() filled (valid until the next read). */
export function sharedBuffer(): Buffer {
  return shared;
}

export class ProcFile {
  private fd = -1;
  /** errno code of the last failure. */
  code: string | null = null;
  constructor(readonly path: string) {}

  /** Reads the whole file into sharedBuffer(); returns its length, or -1 (see `code`). */
  read(): number {
    if (this.fd < 0) {
      try {
        this.fd = openSync(this.path, "r");
      } catch (e) {
        this.code = (e as NodeJS.ErrnoException)?.code ?? "EIO";
        return -1;
      }
    }
    try {
      let n = 0;
      for (;;) {
        const r = readSync(this.fd, shared, n, shared.length - n, n);
        n += r;
        if (r === 0 || n < shared.length) break;
        const bigger = Buffer.allocUnsafe(shared.length * 2); // very large /proc/stat (intr line)
        shared.copy(bigger, 0, 0, n);
        shared = bigger;
      }
      this.code = null;
      return n;
    } catch (e) {
      this.code = (e as NodeJS.ErrnoException)?.code ?? "EIO";
      this.close();
      return -1;
    }
  }

  close(): void {
    if (this.fd >= 0) {
      try {
        closeSync(this.fd);
      } catch {
        /* ignore */
      }
    }
    this.fd = -1;
  }
}

/** Byte scanner over a buffer: unsigned decimal integers (a '.' fraction is skipped). */
export class Scan {
  pos = 0;
  constructor(
    public buf: Uint8Array,
    public end: number,
  ) {}
  reset(buf: Uint8Array, end: number, pos = 0): this {
    this.buf = buf;
    this.end = end;
    this.pos = pos;
    return this;
  }
  /** Next unsigned integer at or after pos on the current line; NaN if the line ends first. */
  int(): number {
    const b = this.buf;
    let p = this.pos;
    while (p < this.end && (b[p] < 48 || b[p] > 57)) {
      if (b[p] === 10) {
        this.pos = p;
        return NaN;
      }
      p++;
    }
    if (p >= this.end) {
      this.pos = p;
      return NaN;
    }
    let v = 0;
    while (p < this.end && b[p] >= 48 && b[p] <= 57) v = v * 10 + (b[p++] - 48);
    if (b[p] === 46) {
      p++;
      while (p < this.end && b[p] >= 48 && b[p] <= 57) p++;
    }
    this.pos = p;
    return v;
  }
  /** Moves past the next newline; false at the end. */
  nextLine(): boolean {
    // Native search (the sampler's code runs cold at 10 Hz: a JavaScript byte loop is slow there).
    let p = this.pos < this.end ? this.buf.indexOf(10, this.pos) : -1;
    if (p < 0 || p > this.end) p = this.end;
    this.pos = p + 1;
    return this.pos < this.end;
  }
  /** True if the bytes at pos equal `s` (ASCII). */
  at(s: string): boolean {
    const b = this.buf;
    if (this.pos + s.length > this.end) return false;
    for (let i = 0; i < s.length; i++) if (b[this.pos + i] !== s.charCodeAt(i)) return false;
    return true;
  }
  skipSpaces(): void {
    while (this.pos < this.end && this.buf[this.pos] === 32) this.pos++;
  }
  /** Next space-delimited word as a string (small allocation). */
  word(): string {
    this.skipSpaces();
    const s = this.pos;
    while (this.pos < this.end && this.buf[this.pos] !== 32 && this.buf[this.pos] !== 10) this.pos++;
    return Buffer.prototype.latin1Slice.call(this.buf, s, this.pos) as string;
  }
}

export function textBuffer(text: string): Buffer {
  return Buffer.from(text, "latin1");
}
