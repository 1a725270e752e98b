// The prefilter (src/session/prefilter.ts) may only skip lines the tracker
// would ignore: for random mixtures of real vLLM log lines, random records,
// tracebacks and hostile bytes, a tracker fed every line and one fed only the
// lines the prefilter keeps must end with the same result.
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { PhaseTracker } from "../../src/phases/tracker.ts";
import { skippable } from "../../src/session/prefilter.ts";
import { LOGS } from "../helpers/tracer.ts";

const real: string[] = [];
for (const f of readdirSync(LOGS, { recursive: true }) as string[]) {
  if (!f.endsWith(".log")) continue;
  real.push(...readFileSync(join(LOGS, f), "utf8").split(/\r?\n|\r/).slice(0, 400));
}

const level = fc.constantFrom("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL");
const prefix = fc.constantFrom("", "(EngineCore_0 pid=12) ", "\x1b[1;36m(VllmWorker rank=1 pid=9)\x1b[0;0m ", "(APIServer pid=1) ");
const record = fc.tuple(prefix, level, fc.string({ maxLength: 80 }), fc.constantFrom(...real.slice(0, 2000)))
  .map(([p, l, s, r]) => `${p}${l} 01-02 03:04:05.678 [x.py:1] ${s}${r.slice(0, 60)}`);
const line = fc.oneof(
  fc.constantFrom(...real), record,
  fc.constantFrom("Traceback (most recent call last):", '  File "x.py", line 1, in <module>', "RuntimeError: boom",
    "During handling of the above exception, another exception occurred:", "ValueError: bad"),
  fc.string({ maxLength: 120 }),
);

function run(lines: string[], filter: boolean) {
  const tr = new PhaseTracker(1000, {}, {});
  let t = 1000;
  for (const l of lines) {
    t += 7;
    if (!filter || !skippable(l)) tr.feedRaw(l, t);
  }
  const r = tr.finish(t + 1, "exit", { code: 1, signal: null });
  return JSON.parse(JSON.stringify({ ...r, lastLine: undefined }, (_k, v) => (typeof v === "number" && !Number.isFinite(v) ? String(v) : v)));
}

describe("prefilter", () => {
  test("skipping what it skips never changes the tracker's result", () => {
    fc.assert(fc.property(fc.array(line, { maxLength: 300 }), (lines) => {
      expect(run(lines, true)).toEqual(run(lines, false));
    }), { numRuns: 150 });
  });

  test("every real log gives the same result with and without the prefilter", () => {
    for (const f of readdirSync(LOGS, { recursive: true }) as string[]) {
      if (!f.endsWith(".log")) continue;
      const lines = readFileSync(join(LOGS, f), "utf8").split(/\n|\r/);
      expect(run(lines, true)).toEqual(run(lines, false));
    }
  });

  test("skips plain DEBUG/INFO noise, keeps markers, errors and the API server", () => {
    expect(skippable("DEBUG 01-02 03:04:05 [core.py:1] EngineCore waiting for work.")).toBe(true);
    expect(skippable("\x1b[1;36m(EngineCore_0 pid=1)\x1b[0;0m INFO 01-02 03:04:05.123 [a.py:2] hello")).toBe(true);
    expect(skippable("INFO 01-02 03:04:05 [default_loader.py:262] Loading weights took 1.71 seconds")).toBe(false);
    expect(skippable("ERROR 01-02 03:04:05 [core.py:1] RuntimeError: x")).toBe(false);
    expect(skippable("(APIServer pid=1) INFO 01-02 03:04:05 [a.py:2] hello")).toBe(false);
    expect(skippable("RuntimeError: x")).toBe(false);
    expect(skippable("INFO 01-02 03:04:05 [a.py:2] Load\x1b[0ming weights took 1 seconds")).toBe(false);
  });
});

// The chunk form (skippableIn over a chunk's lines, unsliced) must decide
// exactly as skippable does on each line, whatever else the chunk holds.
import { skippableIn } from "../../src/session/prefilter.ts";
import { LineSplitter } from "../../src/logparse/line-splitter.ts";

describe("prefilter on whole chunks", () => {
  const brk = fc.constantFrom("\n", "\r", "\r\n");
  test("skippableIn(chunk, from, to) === skippable(line) for every line of random chunks", () => {
    fc.assert(fc.property(fc.array(fc.tuple(line, brk), { maxLength: 60 }), (parts) => {
      const text = parts.map(([l, b]) => l.replace(/[\r\n]/g, " ") + b).join("");
      let from = 0;
      for (const [l, b] of parts) {
        const clean = l.replace(/[\r\n]/g, " ");
        if (clean.length) expect(skippableIn(text, from, from + clean.length)).toBe(skippable(clean));
        from += clean.length + b.length;
      }
    }), { numRuns: 300 });
  });

  test("a splitter with the chunk filter hands on exactly the lines skippable keeps, however the bytes are chunked", () => {
    fc.assert(fc.property(fc.array(line, { maxLength: 120 }), fc.array(fc.integer({ min: 1, max: 400 }), { minLength: 1, maxLength: 20 }), (lines, cuts) => {
      const bytes = new TextEncoder().encode(lines.join("\n") + "\n");
      const want: string[] = [];
      const w = new LineSplitter((l) => { if (!skippable(l)) want.push(l); });
      w.push(bytes);
      w.end();
      const got: string[] = [];
      const s = new LineSplitter((l) => got.push(l), undefined, skippableIn);
      let at = 0, k = 0;
      while (at < bytes.length) {
        const n = cuts[k++ % cuts.length];
        s.push(bytes.subarray(at, at + n));
        at += n;
      }
      s.end();
      expect(got).toEqual(want);
    }), { numRuns: 200 });
  });

  test("real logs: the same lines reach the tracker", () => {
    for (const f of readdirSync(LOGS, { recursive: true }) as string[]) {
      if (!f.endsWith(".log")) continue;
      const bytes = readFileSync(join(LOGS, f));
      const want: string[] = [];
      const w = new LineSplitter((l) => { if (!skippable(l)) want.push(l); });
      w.push(bytes);
      w.end();
      const got: string[] = [];
      const s = new LineSplitter((l) => got.push(l), undefined, skippableIn);
      for (let i = 0; i < bytes.length; i += 4096) s.push(bytes.subarray(i, i + 4096));
      s.end();
      expect(got.length).toBe(want.length);
      expect(got).toEqual(want);
    }
  });
});
