// Live equals offline through the real binary, on every corpus log (data-driven):
// the tracer wraps `startup-tracer replay LOG --speed N` with --time-scale N, and
// its summary has the phases `import` gives of the same log, durations within
// max(0.5 s, 2 %) plus the replay's own timing slack (scheduling jitter of up
// to ~40 ms real, times N), the same statuses when the outcomes agree, and no
// phase only one side has (beyond that tolerance of zero). `make fidelity`
// prints the same comparison as a table.
import { describe, expect, test } from "bun:test";
import { comparePhases, importFidelity, multiplexed, speedFor, wrapReplay } from "../../scripts/fidelity-lib.ts";
import { corpusLogs } from "../helpers/corpus.ts";
import { tracerCmd } from "../helpers/tracer.ts";

const logs = corpusLogs().filter((l) => !multiplexed(l.path));
const JITTER_S = 0.04;

describe("wrapped replay with --time-scale equals import", () => {
  test("there are logs to compare", () => expect(logs.length).toBeGreaterThan(10));
  // Two at a time: each replay mostly sleeps.
  for (let i = 0; i < logs.length; i += 2) {
    const pair = logs.slice(i, i + 2);
    test(pair.map((l) => l.name).join(" + "), async () => {
      await Promise.all(pair.map(async (log) => {
        const imp = importFidelity(log.path);
        const speed = speedFor(imp.totalS, 5, 4);
        const w = await wrapReplay(tracerCmd(), log.path, speed, 120_000, JITTER_S * speed);
        expect(w, `${log.name}: the tracer wrote a summary`).not.toBeNull();
        const c = comparePhases(w!.phases, imp.phases, { tail: !imp.startKnown, sameOutcome: w!.outcome === imp.outcome, slackS: JITTER_S * speed });
        expect({ log: log.name, onlyLive: c.onlyLive, onlyImport: c.onlyImport, statusDiff: c.statusDiff, worstExcessS: c.worst.excessS > 0 ? c.worst : 0 })
          .toEqual({ log: log.name, onlyLive: [], onlyImport: [], statusDiff: [], worstExcessS: 0 });
        // No live alert fired for a phase whose final duration is within its allowance.
        expect({ log: log.name, falseAlarms: w!.falseAlarms }).toEqual({ log: log.name, falseAlarms: [] });
        // A recording that reached readiness is ready live too.
        if (imp.outcome === "ready") expect(w!.outcome).toBe("ready");
        if (imp.outcome === "failed") expect(w!.outcome).toBe("failed");
      }));
    }, 120_000);
  }
});
