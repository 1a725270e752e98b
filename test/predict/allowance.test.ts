// The slow-phase allowance takes the prediction's uncertainty into account.
import { expect, test } from "bun:test";
import { DEFAULT_MARGIN_S, SlowPhaseDetector, UNCERTAINTY_Z } from "../../src/alerts/slow-detector.ts";

const det = (budgets: Record<string, number> = {}) => new SlowPhaseDetector({ now: () => 0, onSlow: () => {}, onResolve: () => {}, budgets });

test("without sigma: factor x predicted + margin, as before", () => {
  expect(det().allowanceFor("load_weights", 10)!.allowance_s).toBeCloseTo(1.5 * 10 + DEFAULT_MARGIN_S, 9);
});

test("a wide prior (unknown GPU) widens the allowance; a narrow one (fleet key seen before) keeps the factor", () => {
  const wide = det().allowanceFor("cuda_graph_capture", 10, 1.0)!.allowance_s;
  expect(wide).toBeCloseTo(Math.exp(UNCERTAINTY_Z * 1.0) * 10 + DEFAULT_MARGIN_S, 9);
  expect(det().allowanceFor("cuda_graph_capture", 10, 0.1)!.allowance_s).toBeCloseTo(1.5 * 10 + DEFAULT_MARGIN_S, 9);
  // invalid sigmas are ignored
  expect(det().allowanceFor("x", 10, Number.NaN)!.allowance_s).toBeCloseTo(17, 9);
  expect(det().allowanceFor("x", 10, -1)!.allowance_s).toBeCloseTo(17, 9);
});

test("an explicit budget still wins over any prediction", () => {
  expect(det({ cuda_graph_capture: 5 }).allowanceFor("cuda_graph_capture", 10, 2)).toEqual({ allowance_s: 5, basis: "budget" });
});

test("live: a phase within its wide allowance is not flagged; beyond it, it is", async () => {
  let t = 0;
  const slow: string[] = [];
  const d = new SlowPhaseDetector({ now: () => t, onSlow: (e) => slow.push(e.phase), onResolve: () => {} });
  d.phaseStarted("kv_cache_profiling", 0, 2, 1.5); // allowance e^3 x 2 + 2 = 42 s
  d.phaseStarted("cuda_graph_capture", 0, 2, 0.1); // allowance 1.5 x 2 + 2 = 5 s
  t = 30_000;
  d.phaseEnded("kv_cache_profiling", 30_000);
  d.phaseEnded("cuda_graph_capture", 30_000);
  d.stop();
  expect(slow).toEqual(["cuda_graph_capture"]);
});
