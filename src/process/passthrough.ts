// Copies the child's output to our own stdout/stderr byte for byte, as it
// arrives, and hands each chunk to the parser. The child's pipes are always
// drained: if our own stream is closed (EPIPE) or stuck (a full pipe nobody
// reads), output to it is dropped, counted and reported, while parsing and
// tracing go on.

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
