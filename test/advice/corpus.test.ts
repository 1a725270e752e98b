// The advice over every real log in ../shared/vllm-logs/ (a log added there is
// covered without a code change): invariants that hold for any start-up, with
// the expected levers read from the log text itself (simple regexes here, not
// the advice's own facts), plus checks on named logs.
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { advise, type AdviceItem } from "../../src/advice/advise.ts";
import { loadStartup, type LoadedStartup } from "../../src/advice/inputs.ts";
import { LEVERS } from "../../src/advice/rules.ts";

const DIR = join(import.meta.dir, "..", "..", "..", "shared", "vllm-logs");

function logsUnder(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...logsUnder(p));
    else if (name.endsWith(".log")) out.push(p);
  }
  return out;
}

const LOGS = logsUnder(DIR);
const cache = new Map<string, { loaded: LoadedStartup; items: AdviceItem[]; text: string }>();
async function adviceFor(path: string) {
  let c = cache.get(path);
  if (!c) {
    const loaded = await loadStartup(path, { stateDir: "/nonexistent-state-dir" });
    c = { loaded, items: advise(loaded.record, loaded.context), text: readFileSync(path, "utf8") };
    cache.set(path, c);
  }
  return c;
}
const levers = (items: AdviceItem[]) => items.map((i) => i.lever);

test("the corpus is there", () => {
  expect(LOGS.length).toBeGreaterThanOrEqual(10);
});

describe.each(LOGS.map((p) => [p.slice(DIR.length + 1), p]))("%s", (_name, path) => {
  test("every item is well formed, from the vocabulary, on a phase of this start-up", async () => {
    const { loaded, items } = await adviceFor(path);
    for (const a of items) {
      expect(LEVERS as readonly string[]).toContain(a.lever);
      const p = loaded.record.phases.find((x) => x.name === a.phase);
      expect(p).toBeDefined();
      expect(a.saving_s).toBeGreaterThan(0);
      expect(a.saving_s).toBeLessThanOrEqual(p!.duration_s! + 1e-9);
      expect(a.evidence.length).toBeGreaterThan(10);
      expect(a.action.length).toBeGreaterThan(10);
      // every placeholder filled
      expect(a.evidence).not.toMatch(/\{[\w.]+\}/);
      expect(a.action).not.toMatch(/\{[\w.]+\}/);
    }
    expect(new Set(levers(items)).size).toBe(items.length);
  });

  test("savings on one phase add up to no more than the phase", async () => {
    const { loaded, items } = await adviceFor(path);
    const per = new Map<string, number>();
    for (const a of items) per.set(a.phase, (per.get(a.phase) ?? 0) + a.saving_s);
    for (const [phase, sum] of per) {
      const d = loaded.record.phases.find((x) => x.name === phase)!.duration_s!;
      expect(sum).toBeLessThanOrEqual(d + 1e-9);
    }
  });

  test("all savings together are no more than the time the advised phases cover (overlaps count once)", async () => {
    const { loaded, items } = await adviceFor(path);
    const iv = [...new Set(items.map((a) => a.phase))].map((n) => loaded.record.phases.find((p) => p.name === n)!)
      .map((p) => [p.start_s, p.start_s + p.duration_s!] as const).sort((a, b) => a[0] - b[0]);
    let union = 0, a = -Infinity, b = -Infinity;
    for (const [x, y] of iv) { if (x > b) { if (b > a) union += b - a; a = x; b = y; } else if (y > b) b = y; }
    if (b > a) union += b - a;
    expect(items.reduce((s, i) => s + i.saving_s, 0)).toBeLessThanOrEqual(union + 0.01);
  });

    test("ranked: a failed start-up's own fix first, then the biggest saving first", async () => {
    const { items } = await adviceFor(path);
    const rest = items.filter((a) => a.lever !== "kv_cache_config");
    for (let i = 1; i < rest.length; i++) expect(rest[i - 1].saving_s).toBeGreaterThanOrEqual(rest[i].saving_s);
    const kv = levers(items).indexOf("kv_cache_config");
    if (kv >= 0) expect(kv).toBe(0);
  });

  test("silent where the log shows the lever pulled or nothing to pull", async () => {
    const { items, text } = await adviceFor(path);
    const has = (l: string) => (levers(items) as string[]).includes(l);
    // compile_cache only on a miss: a log without "Compiling a graph" (a cache hit, eager, no compile) gets none.
    if (!/Compiling a graph for /.test(text)) expect(has("compile_cache")).toBe(false);
    // cuda_graph_sizes only when graphs were captured, never in eager mode.
    if (!/Graph capturing finished/.test(text)) expect(has("cuda_graph_sizes")).toBe(false);
    if (/[ ,(]enforce_eager=True[,)]|Enforce eager set|Cudagraph is disabled under eager mode/.test(text)) expect(has("cuda_graph_sizes")).toBe(false);
    // Loading levers only when weights were loaded; no parallel loading when a streaming loader was already in use.
    if (!/Loading weights took|Model loading took|Loading model weights took/.test(text)) {
      expect(has("parallel_weight_loading")).toBe(false);
      expect(has("page_cache")).toBe(false);
    }
    if (/load_format=(?:LoadFormat\.)?'?(?:runai_streamer|fastsafetensors|tensorizer|serverless_llm)|Multi-thread loading shards|Runai Model Streamer/i.test(text)) {
      expect(has("parallel_weight_loading")).toBe(false);
    }
    // A download only when the log shows one.
    if (!/Time spent downloading weights/.test(text)) expect(has("model_download_cache")).toBe(false);
    // KV-cache configuration only for a start-up that failed on KV-cache memory.
    if (!/No available memory for the cache blocks|KV cache is needed|maximum number of tokens that can be stored in KV cache|out of memory/i.test(text)) {
      expect(has("kv_cache_config")).toBe(false);
    }
  });
});

describe("named logs", () => {
  const find = (part: string) => LOGS.find((p) => p.includes(part))!;

  test("DGX Spark 0.11.0 (compile-cache miss, /root/.cache, 67 capture sizes): compile_cache and cuda_graph_sizes with the log's own figures", async () => {
    const { items } = await adviceFor(find("v0.11.0-gb10-dgxspark"));
    const cc = items.find((a) => a.lever === "compile_cache")!;
    expect(cc).toBeDefined();
    expect(cc.evidence).toContain("/root/.cache/vllm/torch_compile_cache/d865434b5b");
    expect(cc.evidence).toContain("lost with the container");
    expect(cc.action).toContain("VLLM_CACHE_ROOT");
    // "Compiling a graph for dynamic shape takes 10.00 s" in that log: the saving is part of it.
    expect(cc.saving_s).toBeLessThan(10);
    const cg = items.find((a) => a.lever === "cuda_graph_sizes")!;
    expect(cg.evidence).toContain("67 batch sizes"); // cudagraph_capture_sizes in the engine's config line
    expect(cg.evidence).toContain("18 s"); // "Graph capturing finished in 18 secs"
    expect(cg.action).toContain("throughput");
  });

  test("study H100 NVL logs (compile cache hit): no compile_cache", async () => {
    for (const p of LOGS.filter((x) => x.includes("paper-h100nvl"))) {
      const { items, text } = await adviceFor(p);
      expect(text).toContain("Directly load the compiled graph(s)");
      expect(levers(items)).not.toContain("compile_cache");
    }
  });

  test("v0.20 --enforce-eager: no cuda_graph_sizes, no compile_cache", async () => {
    const { items } = await adviceFor(find("enforce-eager"));
    expect(levers(items)).not.toContain("cuda_graph_sizes");
    expect(levers(items)).not.toContain("compile_cache");
  });

  test("v0.16 compose: failed on KV memory -> kv_cache_config first with what vLLM said; the 79 s load gets loading advice next", async () => {
    const { items } = await adviceFor(find("no-kv-memory"));
    expect(items[0].lever).toBe("kv_cache_config");
    expect(items[0].evidence).toContain("No available memory for the cache blocks");
    expect(items[0].evidence).toContain("-8.59 GiB");
    expect(items[0].evidence).toContain("gpu_memory_utilization was 0.3");
    expect(items[0].action).toContain("--gpu-memory-utilization");
    expect(["parallel_weight_loading", "page_cache"]).toContain(items[1].lever);
    expect(items[1].evidence).toContain("79.39 s");
  });

  test("ServerlessLLM loader (v0.6.6): no parallel_weight_loading", async () => {
    const { items } = await adviceFor(find("serverlessllm"));
    expect(levers(items)).not.toContain("parallel_weight_loading");
  });
});
