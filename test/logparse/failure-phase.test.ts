// Failures land on the phase they happened in, by the log's order and the
// traceback's frames (src/logparse/traceback-frames.ts), on every failed log of
// the corpus (data-driven) and on the same log cut to start just before its
// failure (a sidecar attached late, a rotated log, `kubectl logs --tail`):
// import of the whole log, import of the tail and a live (wrap-mode) tracker fed
// the tail all name the same phase.
import { describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseLine } from "../../src/logparse/anatomy.ts";
import { importLogText } from "../../src/logparse/import-log.ts";
import { LogClock } from "../../src/logparse/log-clock.ts";
import { parseFrame, phaseOfFrames } from "../../src/logparse/traceback-frames.ts";
import { PhaseTracker, type TrackerResult } from "../../src/phases/tracker.ts";
import { corpusLogs } from "../helpers/corpus.ts";
import { tracerCmd } from "../helpers/tracer.ts";

const failedNames = (r: TrackerResult) => r.phases.filter((p) => p.status === "error").map((p) => p.name).sort();

/** The log from a few lines before its first traceback or fatal marker. */
function tailOf(text: string): string {
  const lines = text.split("\n");
  const i = lines.findIndex((l) => l.includes("Traceback (most recent call last)") || /failed to start|Memory access fault|initialization failed/.test(l));
  return lines.slice(Math.max(0, i - 3)).join("\n");
}

function live(text: string): TrackerResult {
  const clock = new LogClock();
  let tr: PhaseTracker | null = null;
  let last = 0;
  for (const raw of text.split(/\r?\n|\r/)) {
    const l = parseLine(raw);
    const t = clock.time(l) ?? last;
    last = t;
    // Wrap mode's tracker exists from the child's start, timestamps or not.
    tr ??= new PhaseTracker(t, {}, {});
    tr.feed(l, t);
  }
  return tr!.finish(last, "exit", { code: 1, signal: null });
}

describe("the failed phase, whole log and tail", () => {
  for (const log of corpusLogs()) {
    const text = readFileSync(log.path, "utf8");
    const full = importLogText(text);
    if (full.outcome !== "failed") continue;
    test(log.name, () => {
      const whole = failedNames(full);
      expect(whole.length).toBeGreaterThan(0);
      const tail = tailOf(text);
      const t = importLogText(tail);
      expect(t.outcome).toBe("failed");
      const frames = tail.split("\n").map((l) => parseFrame(parseLine(l).message)).filter((f) => f !== null);
      // When the frames name a step, the tail alone finds the same phase as the whole log.
      if (phaseOfFrames(frames)) expect(failedNames(t)).toEqual(whole);
      else if (failedNames(t).length) expect(failedNames(t)).toEqual(whole);
      // A live tracker that only ever saw the tail says what import of the tail says.
      if (failedNames(t).length && t.stream === null) {
        const l = live(tail);
        expect(l.outcome).toBe("failed");
        expect(l.phases.filter((p) => p.status === "error" && !p.parent).map((p) => p.name))
          .toEqual(t.phases.filter((p) => p.status === "error" && !p.parent).map((p) => p.name));
      }
    });
  }

  test("the KV-cache check of v0.16 (_check_enough_kv_cache_memory after 'Available KV cache memory') is kv_cache_profiling", () => {
    const log = corpusLogs().find((l) => l.name.startsWith("v0.16.1rc1"))!;
    const r = importLogText(readFileSync(log.path, "utf8"));
    expect(failedNames(r)).toEqual(["kv_cache_profiling"]);
    expect(r.phases.some((p) => p.name === "cuda_graph_capture" || p.name === "model_warmup")).toBe(false);
  });

  test("wrap mode on a log that starts inside the failing phase: the same phase as import", async () => {
    const log = corpusLogs().find((l) => l.name.startsWith("v0.16.1rc1"))!;
    // The failing service's lines only, from just before its failure.
    const own = readFileSync(log.path, "utf8").split("\n").filter((l) => l.startsWith("qwen3.5-4b  | "));
    const cut = own.findIndex((l) => l.includes("Available KV cache memory: -"));
    const dir = mkdtempSync(join(tmpdir(), "st-tail-"));
    const tailPath = join(dir, "tail.log");
    writeFileSync(tailPath, `${own.slice(cut, own.findIndex((l, i) => i > cut && l.includes("Engine core initialization failed")) + 1).join("\n")}\n`);
    const imp = importLogText(readFileSync(tailPath));
    expect(failedNames(imp)).toEqual(["kv_cache_profiling"]);
    expect(imp.phases[0].attrs["vllm.startup.phase.start_unknown"]).toBe(true);
    const summary = join(dir, "s.json");
    const proc = Bun.spawn([...tracerCmd(), "--summary-json", summary, "--state-dir", dir, "--no-history", "--quiet", "--sample-interval", "0",
      "--", ...tracerCmd(), "replay", tailPath, "--speed", "10", "--exit-when-done"], { stdout: "ignore", stderr: "ignore", stdin: "ignore" });
    expect(await proc.exited).toBe(1);
    const s = JSON.parse(readFileSync(summary, "utf8"));
    expect(s.outcome).toBe("failed");
    expect(s.phases.filter((p: { status: string; parent: string | null }) => p.status === "error" && !p.parent).map((p: { name: string }) => p.name))
      .toEqual(["kv_cache_profiling"]);
  }, 60_000);
});
