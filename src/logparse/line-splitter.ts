// Splits the child's byte stream into lines for parsing, on "\n" and on "\r"
// (tqdm redraws with bare carriage returns). What is kept per line is capped,
// so a 64 MiB line without a newline costs a bounded amount of memory; the
// passthrough of the bytes themselves happens elsewhere and is not affected.

import { keepBelowFTL } from "../process/jit-budget.ts";

export const MAX_LINE_CHARS = 16 * 1024;

function firstBreak(b: Uint8Array): number {
  const n = b.indexOf(10);
  const r = b.indexOf(13);
  return n < 0 ? r : r < 0 ? n : Math.min(n, r);
}

export class LineSplitter {
  private decoder: TextDecoder = new TextDecoder("utf-8", { fatal: false, ignoreBOM: true });
  private pending = "";
  private overflow = false;

  /**
   * `skip(text, from, to)`, when given, decides for the line text[from, to)
   * before it is made into a string (text[to] is its line break, if any);
   * lines it returns true for never reach onLine. Lines that were kept across
   * chunks or cut at maxChars are tested as strings (from 0 to their length).
   */
  constructor(private onLine: (line: string) => void, private maxChars = MAX_LINE_CHARS,
    private skip: ((text: string, from: number, to: number) => boolean) | null = null) {}

  push(chunk: Uint8Array): void {
    if (this.overflow) {
      // Inside an over-long line: its rest is dropped without being decoded,
      // so a 64 MiB line costs neither memory nor decoding time.
      const nl = firstBreak(chunk);
      if (nl < 0) return;
      this.decoder = new TextDecoder("utf-8", { fatal: false, ignoreBOM: true });
      this.flushPending();
      chunk = chunk.subarray(nl + 1);
    }
    this.pushText(this.decoder.decode(chunk, { stream: true }));
  }

  pushText(text: string): void {
    let start = 0;
    const n = text.length;
    // Native searches for both breaks (no per-character loop in JavaScript).
    let nl = text.indexOf("\n");
    let cr = text.indexOf("\r");
    while (nl >= 0 || cr >= 0) {
      let i: number;
      if (cr < 0 || (nl >= 0 && nl < cr)) {
        i = nl;
        nl = text.indexOf("\n", i + 1);
      } else {
        i = cr;
        cr = text.indexOf("\r", i + 1);
      }
      this.emit(text, start, i);
      start = i + 1;
    }
    if (start < n) this.keep(text, start, n);
  }

  /** Flushes a final partial line (end of stream). */
  end(): void {
    this.pushText(this.decoder.decode());
    if (this.pending.length || this.overflow) this.flushPending();
  }

  private keep(text: string, from: number, to: number): void {
    if (this.overflow) return;
    const room = this.maxChars - this.pending.length;
    if (to - from > room) {
      this.pending += text.slice(from, from + room);
      this.overflow = true;
    } else this.pending += text.slice(from, to);
  }

  private emit(text: string, from: number, to: number): void {
    if (this.pending.length === 0 && !this.overflow) {
      if (to - from > this.maxChars) this.line(text.slice(from, from + this.maxChars));
      else if (to > from && !this.skip?.(text, from, to)) this.onLine(text.slice(from, to));
      return;
    }
    this.keep(text, from, to);
    this.flushPending();
  }

  private flushPending(): void {
    const line = this.pending;
    this.pending = "";
    this.overflow = false;
    if (line.length) this.line(line);
  }

  private line(line: string): void {
    if (!this.skip?.(line, 0, line.length)) this.onLine(line);
  }
}

keepBelowFTL(LineSplitter.prototype.push, LineSplitter.prototype.pushText, (LineSplitter.prototype as unknown as { emit: () => void }).emit);
