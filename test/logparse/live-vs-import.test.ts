// Live equals offline, on every corpus log (data-driven): the lines of each log
// are fed to a live tracker (wrap mode) at the times the log gives them, and
// - the final trace is the one `import` gives (same phases, within max(0.5 s, 2 %)),
// - at every line, the phase the live view shows as current is one the final
//   trace has running at that moment (or its parent), within the log's one-second
//   resolution: no phase is shown that import would not show,
// - every phase the live view reported as finished has the final start and end.
// The real binary's replay with --time-scale is checked by `make fidelity` and
// test/cli/live-replay-fidelity.test.ts.
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { parseLine } from "../../src/logparse/anatomy.ts";
import { importLogText } from "../../src/logparse/import-log.ts";
import { LogClock } from "../../src/logparse/log-clock.ts";
import { PhaseTracker, type FinalPhase } from "../../src/phases/tracker.ts";
import { corpusLogs } from "../helpers/corpus.ts";

const tol = (d: number) => Math.max(500, 0.02 * d) + 1;

function live(text: string) {
  const clock = new LogClock();
  let tracker: PhaseTracker | null = null;
  const started = new Map<string, number>();
  const ended = new Map<string, number>();
  const seen: { t: number; current: string | null }[] = [];
  let last = 0;
  for (const raw of text.split(/\r?\n|\r/)) {
    const l = parseLine(raw);
    const t = clock.time(l) ?? last;
    last = t;
    if (!tracker && t) {
      tracker = new PhaseTracker(t, {
        onPhaseStart: (n, _p, tt) => { started.set(n, tt); ended.delete(n); },
        onPhaseEnd: (n, tt) => ended.set(n, tt),
      }, { serverMode: false });
    }
    if (!tracker) continue;
    tracker.feed(l, t);
    // What an observer sees: the state after the last line of each log second
    // (lines of one second arrive together; within it the view may still settle).
    if (!tracker.done) {
      if (seen.length && seen[seen.length - 1].t === t) seen.pop();
      seen.push({ t, current: tracker.currentPhase() });
    }
  }
  return { tracker, started, ended, seen, last };
}

describe("live view equals import on every corpus log", () => {
  for (const log of corpusLogs()) {
    const text = readFileSync(log.path, "utf8");
    const imp = importLogText(text);
    // One start-up per check: logs holding a restart are compared on their first start-up
    // only when it is the whole log (import splits them; a live tracker sees one child).
    if (imp.restarts.length || imp.stream !== null) continue;
    test(log.name, () => {
      const r = live(text);
      if (!r.tracker) return;
      const res = r.tracker.finish(r.last, "eof");
      const byImport = new Map(imp.phases.map((p) => [p.name, p]));
      const byLive = new Map(res.phases.map((p) => [p.name, p]));
      if (imp.startKnown) {
        expect([...byLive.keys()].sort()).toEqual([...byImport.keys()].sort());
        for (const [name, p] of byImport) {
          const q = byLive.get(name)!;
          expect(Math.abs(q.startMs - p.startMs), `${name} start`).toBeLessThanOrEqual(tol(p.endMs - p.startMs));
          expect(Math.abs(q.endMs - p.endMs), `${name} end`).toBeLessThanOrEqual(tol(p.endMs - p.startMs));
        }
      }
      // What the live view showed as running was running in the final trace: no phase is
      // charged for time the trace gives another. The exception is a phase whose start vLLM
      // reveals only afterwards (graph capture without progress bars: its printed duration
      // places it back); until then the one before it is shown. A wrapped child always
      // shows its start, so tails and fragments are checked by import alone.
      const final = new Map(res.phases.map((p) => [p.name, p]));
      const inside = (p: FinalPhase | undefined, t: number) => !!p && p.startMs - 1000 <= t && t <= p.endMs + 1000;
      const placedBack = res.phases.filter((p) => !p.parent && p.source === "printed");
      const anyAt = (t: number) => res.phases.some((p) => p.startMs - 1000 <= t && t <= p.endMs + 1000);
      for (const s of imp.startKnown ? r.seen : []) {
        // Time the final trace gives to no phase (a sampled log) has nothing to compare with.
        if (!s.current || !anyAt(s.t)) continue;
        const p = final.get(s.current);
        const parent = p?.parent ? final.get(p.parent) : undefined;
        const top = parent ?? p;
        const unknowable = !!top && placedBack.some((q) => inside(q, s.t) && Math.abs(q.startMs - top.endMs) <= 1000);
        expect(inside(p, s.t) || inside(parent, s.t) || unknowable, `at +${((s.t - res.t0) / 1000).toFixed(1)} s live said ${s.current}`).toBe(true);
      }
      // Finished live phases have their final times.
      for (const [name, end] of imp.startKnown ? r.ended : new Map<string, number>()) {
        const p = final.get(name);
        if (!p) continue;
        expect(Math.abs(end - p.endMs), `${name} live end`).toBeLessThanOrEqual(tol(p.endMs - p.startMs) + 1000);
        expect(Math.abs(r.started.get(name)! - p.startMs), `${name} live start`).toBeLessThanOrEqual(tol(p.endMs - p.startMs) + 1000);
      }
    });
  }
});
