// `replay`: a stand-in vLLM for demos and tests. Re-emits a recorded log byte
// for byte, vLLM's records on stdout and uvicorn lines, progress bars and raw
// tracebacks on stderr (as vLLM does, catalogue §2), with the recorded pacing
// divided by --speed. Exit status: 0 when the recording reached readiness
// (after staying up until signalled, unless --exit-when-done), 1 otherwise.
import { readFileSync } from "node:fs";
import { parseLine } from "../logparse/anatomy.ts";
import { LogClock } from "../logparse/log-clock.ts";
import { importLogText } from "../logparse/import-log.ts";

export interface ReplayChunk {
  stream: 1 | 2;
  bytes: Uint8Array;
  /** Offset from the first timestamped line, in ms of recorded time. */
  atMs: number;
}

/** Splits a recording into physical lines (keeping their terminators) with times and streams. */
export function planReplay(data: Uint8Array): ReplayChunk[] {
  const out: ReplayChunk[] = [];
  const clock = new LogClock(2000);
  const dec = new TextDecoder();
  let first: number | null = null;
  let last = 0;
  let start = 0;
  for (let i = 0; i <= data.length; i++) {
    if (i < data.length && data[i] !== 10) continue;
    const end = Math.min(data.length, i + 1);
    if (end <= start) break;
    const bytes = data.subarray(start, end);
    start = end;
    const text = dec.decode(bytes);
    // A physical line may hold several tqdm states separated by "\r"; its time is that of its record.
    const lastPart = text.split("\r").filter((s) => s.trim()).pop() ?? text;
    const line = parseLine(lastPart);
    const t = line.hasTime ? clock.time(line) : null;
    if (t !== null) {
      if (first === null) first = t;
      last = t - first;
    }
    const isRecord = line.hasTime && !/\d+%\|/.test(text);
    const stream: 1 | 2 = isRecord ? 1 : 2;
    const prev = out[out.length - 1];
    if (prev && prev.stream === stream && prev.atMs === last) {
      const merged = new Uint8Array(prev.bytes.length + bytes.length);
      merged.set(prev.bytes);
      merged.set(bytes, prev.bytes.length);
      prev.bytes = merged;
    } else out.push({ stream, bytes, atMs: last });
  }
  return out;
}

export async function runReplay(path: string, speed: number, exitWhenDone: boolean): Promise<number> {
  const data = readFileSync(path);
  const plan = planReplay(data);
  const outcome = importLogText(data).outcome;
  const begin = performance.now();
  let stop = false;
  const onSignal = () => { stop = true; };
  for (const s of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(s, onSignal);
  for (const c of plan) {
    if (stop) return 130;
    const due = begin + c.atMs / speed;
    const wait = due - performance.now();
    if (wait > 1) await Bun.sleep(wait);
    await write(c.stream === 1 ? process.stdout : process.stderr, c.bytes);
  }
  if (outcome !== "ready") return 1;
  if (exitWhenDone) return 0;
  // A ready server stays up until it is told to stop.
  // Signal listeners do not hold Bun's event loop open, so a ref'd timer does
  // until one arrives (without it the process exited here, taking a wrapped API with it).
  await new Promise<void>((resolve) => {
    const hold = setInterval(() => {}, 1 << 30);
    const done = () => { clearInterval(hold); resolve(); };
    for (const s of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(s, done);
    if (stop) done();
  });
  return 0;
}

function write(stream: NodeJS.WriteStream, bytes: Uint8Array): Promise<void> {
  return new Promise((resolve) => {
    try {
      if (stream.write(bytes)) resolve();
      else stream.once("drain", () => resolve());
    } catch {
      resolve();
    }
  });
}
