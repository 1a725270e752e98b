// Advice in wrap mode from what the sampler measured: a real child reads a
// weights file during load_weights, first from storage (the file is pushed out
// of the page cache), then again from the page cache. Where the bytes came from
// decides whether `page_cache` is advised; the evidence quotes the sampler.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeUncachedRandomFile } from "../helpers/files.ts";
import { ROOT, runTracer, tempStateDir } from "../helpers/tracer.ts";

// Big enough that the paced read (15 ms per MiB) takes seconds: both loading levers then save more than 1 s.
const SIZE = 256 * 1024 * 1024;
let dir = "";
let file = "";
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "st-advice-wrap-"));
  file = join(dir, "model.safetensors");
  await writeUncachedRandomFile(file, SIZE);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function wrapOnce(tag: string) {
  const summaryPath = join(dir, `${tag}.json`);
  const r = await runTracer(["--state-dir", tempStateDir(), "--no-history", "--sample-interval", "100", "--summary-json", summaryPath, "--",
    process.execPath, join(ROOT, "test/fixtures/children/fake-vllm-phases.ts"), file], { timeoutMs: 60_000 });
  expect(r.code).toBe(0);
  const s = JSON.parse(readFileSync(summaryPath, "utf8"));
  const lw = s.phases.find((p: { name: string }) => p.name === "load_weights");
  return { r, s, source: lw.attributes["vllm.startup.io.read_source"] as string | undefined, duration: lw.duration_s as number };
}

test("page_cache is advised after a read from storage, and not after a read from the page cache", async () => {
  const cold = await wrapOnce("cold");
  // Make sure the file is in the page cache for the second start-up.
  await Bun.file(file).arrayBuffer();
  const warm = await wrapOnce("warm");
  const levers = (s: { advice: { lever: string }[] }) => s.advice.map((a) => a.lever);
  for (const run of [cold, warm]) {
    for (const a of run.s.advice) expect(a.saving_s).toBeLessThanOrEqual(run.s.phases.find((p: { name: string }) => p.name === a.phase).duration_s);
    if (run.source === "page_cache") expect(levers(run.s)).not.toContain("page_cache");
  }
  // The uncached file came from storage; the sampler says so and the advice quotes it.
  expect(cold.source).toBe("storage");
  const pc = cold.s.advice.find((a: { lever: string }) => a.lever === "page_cache");
  expect(pc).toBeDefined();
  expect(pc.evidence).toContain("storage");
  expect(cold.r.err).toContain("page_cache");
  // The second read found the file cached: no page-cache advice. (The sampler also counts the
  // host's own disk reads, so on a busy shared host it may still say storage: then the advice
  // must say what the sampler saw.)
  if (warm.source === "page_cache") expect(levers(warm.s)).not.toContain("page_cache");
  else expect(warm.s.advice.find((a: { lever: string }) => a.lever === "page_cache")?.evidence ?? "").toContain(String(warm.source));
}, 120_000);
