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
