// Host sampling through wrap mode with a real child that does what each phase
// stands for: a saturated core in bootstrap, the weights' bytes read in
// load_weights, an idle KV-cache phase — read back from the exported spans.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { writeUncachedRandomFile } from "../helpers/files.ts";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startReceiver } from "../helpers/otlp-receiver.ts";
import { ROOT, runTracer, tempStateDir } from "../helpers/tracer.ts";

const SIZE = 96 * 1024 * 1024;
let dir = "";
let file = "";
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "st-sampling-wrap-"));
  file = join(dir, "model.safetensors");
  await writeUncachedRandomFile(file, SIZE);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test("phase spans show a saturated core, the bytes read, and an idle phase", async () => {
  const rx = startReceiver();
  const r = await runTracer(["--otlp-endpoint", rx.url, "--state-dir", tempStateDir(), "--sample-interval", "100", "--",
    process.execPath, join(ROOT, "test/fixtures/children/fake-vllm-phases.ts"), file], { timeoutMs: 60_000 });
  expect(r.code).toBe(0);
  const spans = await rx.waitForSpans(5);
  rx.stop();
  const by = Object.fromEntries(spans.map((s) => [s.name, s.attributes]));
  // Bootstrap: one core busy.
  expect(by.bootstrap["vllm.startup.cpu.busiest_core.utilization.mean"] as number).toBeGreaterThan(0.75);
  expect(by.bootstrap["vllm.startup.process.cpu.core_share"] as number).toBeGreaterThan(0.45);
  expect(by.bootstrap["vllm.startup.phase.bound_by"]).toBe("CPU-single-core");
  // load_weights: the file's bytes, within 10 %.
  const read = Number(by.load_weights["vllm.startup.process.io.read_chars"]);
  expect(Math.abs(read - SIZE) / SIZE).toBeLessThan(0.1);
  // KV-cache profiling: the child slept.
  expect(by.kv_cache_profiling["vllm.startup.process.cpu.core_share"] as number).toBeLessThan(0.1);
  expect(by.kv_cache_profiling["vllm.startup.phase.bound_by"]).toBe("waiting");
  // The root carries the bounded per-core series and says why there is no GPU data.
  const root = spans.find((s) => s.name === "vllm.startup")!.attributes;
  expect(typeof root["vllm.startup.cpu.per_core.series"]).toBe("string");
  expect((root["vllm.startup.cpu.per_core.series"] as string).length).toBeLessThanOrEqual(32768);
  expect(typeof root["vllm.startup.gpu.unavailable"]).toBe("string");
  // The blame table has the bound-by column.
  expect(r.err).toContain("bound by");
}, 60_000);
