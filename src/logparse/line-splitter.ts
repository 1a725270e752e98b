// Splits the child's byte stream into lines for parsing, on "\n" and on "\r"
// (tqdm redraws with bare carriage returns). What is kept per line is capped,
// so a 64 MiB line without a newline costs a bounded amount of memory; the
// passthrough of the bytes themselves happens elsewhere and is not affected.

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

  constructor(private onLine: (line: string) => void, private maxChars = MAX_LINE_CHARS) {}

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
    for (let i = 0; i < n; i++) {
      const c = text.charCodeAt(i);
      if (c !== 10 && c !== 13) continue;
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
      if (to > from) this.onLine(to - from > this.maxChars ? text.slice(from, from + this.maxChars) : text.slice(from, to));
      return;
    }
    this.keep(text, from, to);
    this.flushPending();
  }

  private flushPending(): void {
    const line = this.pending;
    this.pending = "";
    this.overflow = false;
    if (line.length) this.onLine(line);
  }
}
