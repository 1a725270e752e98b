// Import: the trace of a finished log, timed by the log's own timestamps.
import { openSync, readSync, closeSync } from "node:fs";
import { parseLine, type LogLine } from "./anatomy.ts";
import { LineSplitter } from "./line-splitter.ts";
import { LogClock } from "./log-clock.ts";
import { PhaseTracker, type TrackerResult } from "../phases/tracker.ts";

export interface ImportResult extends TrackerResult {
  lines: number;
}

/** Imports a log held in memory (tests, replay) or read from a file in chunks. */
export function importLogText(text: string | Uint8Array, opts: { year?: number } = {}): ImportResult {
  const imp = new LogImporter(opts.year);
  if (typeof text === "string") imp.splitter.pushText(text);
  else imp.splitter.push(text);
  return imp.finish();
}

export function importLogFile(path: string, opts: { year?: number } = {}): ImportResult {
  const imp = new LogImporter(opts.year);
  const fd = openSync(path, "r");
  try {
    const buf = new Uint8Array(1 << 20);
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n <= 0) break;
      imp.splitter.push(buf.subarray(0, n));
    }
  } finally {
    closeSync(fd);
  }
  return imp.finish();
}

class LogImporter {
  readonly splitter: LineSplitter;
  private clock: LogClock;
  private tracker: PhaseTracker | null = null;
  private early: LogLine[] = [];
  private lines = 0;

  constructor(year?: number) {
    this.clock = new LogClock(year);
    this.splitter = new LineSplitter((raw) => this.line(raw));
  }

  private line(raw: string): void {
    this.lines++;
    const line = parseLine(raw);
    const t = this.clock.time(line);
    if (t === null) {
      if (this.early.length < 10_000) this.early.push(line);
      return;
    }
    if (!this.tracker) {
      this.tracker = new PhaseTracker(t);
      for (const l of this.early) this.tracker.feed(l, t);
      this.early = [];
    }
    this.tracker.feed(line, t);
  }

  finish(): ImportResult {
    this.splitter.end();
    if (!this.tracker) {
      // No timestamp at all: phases can still be recognised, at time zero.
      this.tracker = new PhaseTracker(0);
      for (const l of this.early) this.tracker.feed(l, 0);
    }
    const r = this.tracker.finish(0, "eof");
    return { ...r, lines: this.lines };
  }
}
