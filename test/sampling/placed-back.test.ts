// A step whose start vLLM reveals only afterwards (load_weights, placed back from
// "Loading weights took X") has no boundary sample of its own: its counters come
// from the samples around that moment, not from an interpolation that hands
// part of a fast read to the 50 ms model_init before it (issue: 188-286 MB of
// 300 MB on load_weights, 28-56 MB on a model_init that read nothing).
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT, runTracer, tempStateDir } from "../helpers/tracer.ts";

const SIZE = 256 * 1024 * 1024;
let dir = "";
let file = "";
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "st-placed-back-"));
  file = join(dir, "model.safetensors");
  // In the page cache on purpose: the read takes a fraction of one sampling interval.
  const chunk = new Uint8Array(1 << 20).fill(7);
  writeFileSync(file, Buffer.concat(Array.from({ length: SIZE / chunk.length }, () => chunk)));
  readFileSync(file);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test("a fast read right after 'Starting to load model' is load_weights', not model_init's or bootstrap's", async () => {
  const state = tempStateDir();
  const summaryPath = join(state, "summary.json");
  const r = await runTracer(["--summary-json", summaryPath, "--state-dir", state, "--no-history", "--sample-interval", "100", "--",
    process.execPath, join(ROOT, "test/fixtures/children/fake-vllm-phases.ts"), file, "fast"], { timeoutMs: 60_000 });
  expect(r.code, r.err).toBe(0);
  const sum = JSON.parse(readFileSync(summaryPath, "utf8"));
  const by = Object.fromEntries(sum.phases.map((p: { name: string }) => [p.name, p]));
  const read = (n: string) => Number(by[n]?.attributes["vllm.startup.process.io.read_chars"] ?? 0);
  expect(by.load_weights.parent).toBe("model_loading");
  expect(read("load_weights")).toBeGreaterThan(0.95 * SIZE);
  expect(read("model_init")).toBeLessThan(0.05 * SIZE);
  expect(read("bootstrap")).toBeLessThan(0.05 * SIZE);
  // The parent holds its children's bytes.
  expect(read("model_loading")).toBeGreaterThan(0.95 * SIZE);
  // Top-level phases do not overlap in the summary.
  const top = sum.phases.filter((p: { parent: string | null }) => !p.parent).sort((a: { start_s: number }, b: { start_s: number }) => a.start_s - b.start_s);
  for (let i = 1; i < top.length; i++) expect(top[i].start_s).toBeGreaterThanOrEqual(top[i - 1].start_s + top[i - 1].duration_s - 0.001);
}, 60_000);
