// Import: the trace of a finished log, timed by the log's own timestamps.
//
// Which start-up an import traces (a log can hold more than one):
// - Streams: when an outer wrapper multiplexes several servers into one log
//   (docker compose `service  | ` prefixes), import follows the stream of the
//   first vLLM line (the first line with a vLLM header); lines of other streams
//   are skipped. Lines without a stream prefix (tqdm bars, which compose prints
//   bare, and compose's own status lines) are kept.
// - Restarts: after a failed start-up, a new start-up marker of the same stream
//   (version banner / "vLLM API server version", "Automatically detected
//   platform", engine-init line) begins a new start-up (docker restart policy,
//   supervisor loops). The result describes the FIRST start-up of the log (the
//   summary has one outcome); `startups` counts the start-ups seen and
//   `restarts` holds the results of the later ones, in order.
import { openSync, readSync, closeSync } from "node:fs";
import { parseLine, type LogLine } from "./anatomy.ts";
import { LineSplitter } from "./line-splitter.ts";
import { LogClock } from "./log-clock.ts";
import { recognize, type Recognized } from "./recognizer.ts";
import { PhaseTracker, type TrackerResult } from "../phases/tracker.ts";

export interface ImportResult extends TrackerResult {
  lines: number;
  /** Start-ups in the traced stream: 1 + the restarts after a failure. */
  startups: number;
  /** The later start-ups (after a failure and a restart), in order. */
  restarts: TrackerResult[];
  /** The wrapper stream traced (docker compose service), or null. */
  stream: string | null;
  /** Streams (compose services) the log holds besides the traced one. */
  otherStreams: string[];
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

/**
 * A line that begins a start-up: the version banner / "vLLM API server version"
 * (and, after a fatal marker, also platform detection or the API-server args).
 * Processes of one start-up print platform detection each, so without a fatal
 * marker only a version line counts.
 */
function isStartMarker(line: LogLine, scratch: Recognized[], afterFatal: boolean): boolean {
  if (!line.hasTime) return false;
  for (const h of recognize(line, scratch)) {
    if (h.rule.kind === "version" && h.rule.id !== "engine.init.version") return true;
    if (afterFatal && h.rule.kind === "boundary" && (h.rule.boundary === "platform_detected" || h.rule.boundary === "api_start")) return true;
  }
  return false;
}

class LogImporter {
  readonly splitter: LineSplitter;
  private clock: LogClock;
  private tracker: PhaseTracker | null = null;
  private early: LogLine[] = [];
  private lines = 0;
  private stream: string | null | undefined = undefined;
  private others = new Set<string>();
  private finished: TrackerResult[] = [];
  private scratch: Recognized[] = [];

  constructor(year?: number) {
    this.clock = new LogClock(year);
    this.splitter = new LineSplitter((raw) => this.line(raw));
  }

  private line(raw: string): void {
    this.lines++;
    const line = parseLine(raw);
    if (line.stream !== null) {
      if (this.stream === undefined) {
        if (line.level !== null && line.hasTime) this.stream = line.stream;
        else if (line.stream !== null) {
          // Before the first vLLM line: keep it for whichever stream turns out to be traced.
          if (this.early.length < 10_000) this.early.push(line);
          return;
        }
      }
      if (this.stream !== line.stream) {
        this.others.add(line.stream);
        return;
      }
    }
    if (this.early.length && this.stream !== undefined) {
      // Early lines of other streams are dropped once the traced stream is known.
      this.early = this.early.filter((l) => l.stream === null || l.stream === this.stream);
    }
    const t = this.clock.time(line);
    if (t === null) {
      if (this.early.length < 10_000) this.early.push(line);
      return;
    }
    const tr = this.tracker;
    if (tr && (tr.failed || (tr.crashed && !tr.done)) && isStartMarker(line, this.scratch, tr.failed)) {
      this.finished.push(tr.finish(t, "eof"));
      this.tracker = null;
    }
    if (!this.tracker) {
      this.tracker = new PhaseTracker(t, {}, { importMode: true });
      for (const l of this.early) if (l.stream === null || l.stream === this.stream) this.tracker.feed(l, t);
      this.early = [];
    }
    this.tracker.feed(line, t);
  }

  finish(): ImportResult {
    this.splitter.end();
    if (!this.tracker) {
      // No timestamp at all: phases can still be recognised, at time zero.
      this.tracker = new PhaseTracker(0, {}, { importMode: true });
      for (const l of this.early) this.tracker.feed(l, 0);
    }
    const all = [...this.finished, this.tracker.finish(0, "eof")];
    const stream = this.stream ?? null;
    if (stream !== null) this.others.delete(stream);
    return { ...all[0], lines: this.lines, startups: all.length, restarts: all.slice(1), stream, otherStreams: [...this.others] };
  }
}
