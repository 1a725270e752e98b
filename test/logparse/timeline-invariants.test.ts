// The timeline's invariants on every log of the corpus (data-driven: a log
// added to ../shared/vllm-logs/ is covered without a code change), for every
// start-up a log holds, at the level it was recorded and, for DEBUG logs, with
// their DEBUG lines removed.
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { importLogText } from "../../src/logparse/import-log.ts";
import { allowedParents } from "../../src/phases/catalog.ts";
import { checkInvariants } from "../../src/phases/invariants.ts";
import type { TrackerResult } from "../../src/phases/tracker.ts";
import { corpusLogs, withoutDebug } from "../helpers/corpus.ts";

function checkOne(r: TrackerResult): void {
  expect(checkInvariants(r.phases, r.t0, r.endT)).toEqual([]);
  for (const p of r.phases) {
    if (p.parent) expect(allowedParents(p.name), `${p.name} under ${p.parent}`).toContain(p.parent);
    expect(Number.isFinite(p.durationS) && p.durationS >= 0).toBe(true);
  }
  const total = (r.endT - r.t0) / 1000;
  // A complete log (its start shown, readiness reached): at most 3 % belongs to no phase.
  if (r.outcome === "ready" && r.startKnown && total > 0) expect(r.unexplainedS / total).toBeLessThanOrEqual(0.03);
  if (r.outcome === "failed") {
    const failedTop = r.phases.filter((p) => p.status === "error" && !p.parent);
    expect(failedTop.length, "one failed top-level phase").toBe(1);
    for (const p of r.phases.filter((q) => q.status === "error" && q.parent)) {
      expect(r.phases.find((q) => q.name === p.parent)!.status).toBe("error");
    }
    // Nothing after the failure is reported as done.
    const failed = failedTop[0];
    for (const p of r.phases) if (!p.parent && p !== failed) expect(p.startMs).toBeLessThanOrEqual(failed.startMs);
  } else {
    expect(r.phases.some((p) => p.status === "error")).toBe(false);
  }
}

describe("timeline invariants on every corpus log", () => {
  const logs = corpusLogs();
  test("the corpus is there", () => expect(logs.length).toBeGreaterThan(10));
  for (const log of logs) {
    const text = readFileSync(log.path, "utf8");
    const variants: [string, string][] = [["as recorded", text]];
    if (/\bDEBUG \d\d-\d\d /.test(text)) variants.push(["INFO level (DEBUG lines removed)", withoutDebug(text)]);
    for (const [how, t] of variants) {
      test(`${log.name} ${how}`, () => {
        const r = importLogText(t);
        checkOne(r);
        for (const again of r.restarts) checkOne(again);
      });
    }
  }
});
