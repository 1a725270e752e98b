// The tracer's own messages on stderr: one line each, prefixed, redacted, and
// never able to throw (stderr may be closed). In wrap mode the child's stderr
// flows through the same stream, so a message waits until the child's output
// is at a line boundary (at most a second) rather than splitting its line.
import { redactText } from "../redact/redact.ts";

let quiet = false;
let midLine = false;
let queued: string[] = [];
let timer: ReturnType<typeof setTimeout> | null = null;
let beforeWrite: (() => void) | null = null;

/** The live status line registers here so a message never lands on its line. */
export function setBeforeMessage(fn: (() => void) | null): void {
  beforeWrite = fn;
}

export function setQuietWarnings(q: boolean): void {
  quiet = q;
}

const direct = (text: string) => void process.stderr.write(text);
let stderrWriter: (text: string) => void = direct;

/**
 * Where the tracer's own stderr output goes. Under the stream pump the child's
 * stderr waits in a queue (src/process/passthrough.ts) and ours joins it there,
 * so the two keep their order; null restores direct writes.
 */
export function setStderrWriter(fn: ((text: string) => void) | null): void {
  stderrWriter = fn ?? direct;
}

/** The tracer's own bytes on stderr (messages, the status line); never throws. */
export function writeStderr(text: string): void {
  try {
    stderrWriter(text);
  } catch { /* stderr gone: nothing to do */ }
}

let midLineProbe: (() => boolean) | null = null;

/** With the fast passthrough the child's stderr is written by another thread, which tells where it is. */
export function setStderrMidLineProbe(probe: (() => boolean) | null): void {
  midLineProbe = probe;
}

/** Writes queued messages once the child's stderr is at a line boundary (fast passthrough, polled). */
export function flushIfAtLineBoundary(): void {
  if (queued.length && !isMidLine()) flush();
}

const isMidLine = () => (midLineProbe ? midLineProbe() : midLine);

/** Wrap mode tells whether the child's last stderr chunk ended mid-line. */
export function childStderrChunk(chunk: Uint8Array): void {
  if (chunk.length === 0) return;
  midLine = chunk[chunk.length - 1] !== 10;
  if (!midLine) flush();
}

function flush(): void {
  if (timer) {
    clearTimeout(timer);
    timer = null;
  }
  const lines = queued;
  queued = [];
  for (const l of lines) write(l);
}

function write(l: string): void {
  try {
    beforeWrite?.();
  } catch { /* the status line's fault is its own */ }
  writeStderr(l);
}

export function say(line: string): void {
  const l = `startup-tracer: ${redactText(line)}\n`;
  if (!isMidLine()) return write(l);
  queued.push(l);
  if (!timer) {
    timer = setTimeout(() => {
      if (isMidLine()) write("\n");
      midLine = false;
      flush();
    }, 1000);
    timer.unref?.();
  }
}

export function warn(line: string): void {
  if (!quiet) say(`warning: ${line}`);
}
