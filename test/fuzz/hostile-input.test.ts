// Hostile log input through the real parsing path: the bytes go into
// StartupSession.newStream() (LineSplitter → prefilter → PhaseTracker) in
// random chunks, the session is finalized and buildSpans (src/trace/build-spans.ts)
// makes the trace. For random bytes, invalid UTF-8, NUL bytes, endless `\r`
// progress redraws, ANSI colour codes split across chunk boundaries,
// interleaved ranks and marker lines with absurd numbers:
// - nothing throws (feeding, the live snapshot, finalize, buildSpans, encoding);
// - every span is valid: start <= end, finite durations >= 0, finite numeric
//   attributes, canonical names, parents that exist; the summary's numbers are
//   finite;
// - memory stays bounded: 64 MiB without a newline and 10^6 `\r` redraws keep
//   the heap small;
// and end to end through the real binary: a child writing a 64 MiB line then a
// ready start-up is passed through byte for byte, the tracer's peak RSS stays
// low and the trace still has its phases.
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { StartupSession } from "../../src/session/startup-session.ts";
import { readExportConfig } from "../../src/trace/otel-config.ts";
import { buildSpans } from "../../src/trace/build-spans.ts";
import { encode } from "../../src/trace/deliver.ts";
import { ALL_PHASES, allowedParents } from "../../src/phases/catalog.ts";
import type { ReadableSpan } from "@opentelemetry/sdk-trace";
import { ROOT, tempStateDir, tracerCmd } from "../helpers/tracer.ts";

const T0 = 1_700_000_000_000;
const ids = { traceId: "0af7651916cd43dd8448eb211c80319c", rootSpanId: "b7ad6b7169203331", parentSpanId: null, traceFlags: 1, traceState: null };
const disabled = readExportConfig({ OTEL_SDK_DISABLED: "true" });
const enc = new TextEncoder();

// ---- generators --------------------------------------------------------------
const absurd = fc.oneof(
  fc.constantFrom("-5", "NaN", "nan", "1e308", "1e309", "-1e308", "inf", "-inf", "Infinity", "0", "-0", "1e-320",
    "123,456,789,012,345,678,901", "99999999999999999999999999999", "1.2.3", "", "0x10", "1_000", "٣", "1,,2", "--3"),
  fc.double().map(String),
  fc.integer().map(String),
  fc.bigInt({ min: 0n, max: 10n ** 40n }).map((b) => b.toLocaleString("en-US")),
);
const MARKERS: ((n: string, m: string) => string)[] = [
  () => "Automatically detected platform cuda.",
  (n) => `Time spent downloading weights for /m: ${n} seconds`,
  (n) => `NEW: Init Tokenizer took ${n} seconds`,
  () => "Chunked prefill is enabled with max_num_batched_tokens=2048.",
  () => "Waiting for init message from front-end.",
  () => "Initializing a V1 LLM engine (v0.11.0) with config: model='/m', tensor_parallel_size=2, pipeline_parallel_size=1",
  () => "Starting to load model /m...",
  (n) => `Loading weights took ${n} seconds`,
  (n, m) => `Model loading took ${n} GiB and ${m} seconds`,
  (n) => `Dynamo bytecode transform time: ${n} s`,
  (n) => `Compiling a graph for dynamic shape takes ${n} s`,
  (n) => `Directly load the compiled graph(s) for dynamic shape from the cache, took ${n} s`,
  (n) => `torch.compile takes ${n} s in total`,
  (n) => `Memory profiling takes ${n} seconds. Total non KV cache memory: 1.69GiB`,
  (n) => `Available KV cache memory: ${n} GiB`,
  (n) => `GPU KV cache size: ${n} tokens`,
  (n) => `# GPU blocks: ${n}, # CPU blocks: ${n}`,
  (n, m) => `Graph capturing finished in ${n} secs, took ${m} GiB`,
  (n) => `init engine (profile, create kv cache, warmup model) took ${n} seconds`,
  () => "Starting vLLM API server 0 on http://0.0.0.0:8000",
  () => "Application startup complete.",
  () => "EngineCore failed to start.",
  () => "Traceback (most recent call last):",
  (n) => `RuntimeError: CUDA out of memory ${n}`,
];
const rank = fc.constantFrom("", "(Worker_TP0 pid=1) ", "(Worker_TP1 pid=2) ", "(EngineCore_DP0 pid=3) ", "(APIServer pid=4) ",
  "\x1b[1;36m(Worker_TP0 pid=1)\x1b[0;0m ", "\x1b[1;36m(Worker_TP1 pid=2)\x1b[0;0m ", "#033[1;36m(Worker_TP1 pid=2)#033[0;0m ");
const level = fc.constantFrom("INFO", "DEBUG", "WARNING", "ERROR", "CRITICAL");
const markerLine = fc.tuple(rank, level, fc.integer({ min: 0, max: MARKERS.length - 1 }), absurd, absurd, fc.boolean())
  .map(([r, l, i, n, m, header]) => `${r}${header ? `${l} 01-02 03:04:05.678 [x.py:1] ` : ""}${MARKERS[i](n, m)}`);
const progress = fc.integer({ min: 1, max: 60 }).map((k) =>
  Array.from({ length: k }, (_, i) => `\rLoading safetensors checkpoint shards: ${i}% Completed | ${i}/${k} [00:0${i % 10}<00:00]`).join(""));
const ansiNoise = fc.constantFrom("\x1b[1;36m", "\x1b[0;0m", "\x1b[", "\x1b[38;5;2", "#033[1;3", "[1;36m", "\x1b]0;title\x07", "\x1b[2K\r");
const piece: fc.Arbitrary<Uint8Array> = fc.oneof(
  { weight: 5, arbitrary: markerLine.map((s) => enc.encode(`${s}\n`)) },
  { weight: 2, arbitrary: progress.map((s) => enc.encode(s)) },
  { weight: 2, arbitrary: ansiNoise.map((s) => enc.encode(s)) },
  { weight: 2, arbitrary: fc.uint8Array({ maxLength: 64 }) },
  { weight: 1, arbitrary: fc.constantFrom(new Uint8Array([0xff, 0xfe]), new Uint8Array([0xc3]), new Uint8Array([0xe2, 0x96]),
    new Uint8Array([0, 0, 0]), new Uint8Array([0xed, 0xa0, 0x80]), new Uint8Array([13, 13, 13, 10])) },
  { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 80 }).map((s) => enc.encode(s)) },
);
/** Pieces joined and cut again at random places, so lines, ANSI codes and UTF-8 sequences straddle chunks. */
const stream = fc.tuple(fc.array(piece, { maxLength: 120 }), fc.array(fc.integer({ min: 1, max: 97 }), { minLength: 1, maxLength: 20 }),
  fc.array(fc.integer({ min: 0, max: 5000 }), { minLength: 1, maxLength: 10 }))
  .map(([ps, cuts, gaps]) => {
    const all = Buffer.concat(ps);
    const chunks: { bytes: Uint8Array; dt: number }[] = [];
    let off = 0;
    for (let i = 0; off < all.length; i++) {
      const n = cuts[i % cuts.length];
      chunks.push({ bytes: all.subarray(off, off + n), dt: gaps[i % gaps.length] });
      off += n;
    }
    return chunks;
  });

// ---- the parsing path ----------------------------------------------------------
async function trace(chunks: { bytes: Uint8Array; dt: number; stream?: number }[], serverMode = true) {
  const session = new StartupSession({ ids, mode: "wrap", t0: T0, exportConfig: disabled, stateDir: "/nonexistent", serverMode });
  const streams = [session.newStream(), session.newStream()];
  let t = T0;
  let i = 0;
  for (const c of chunks) {
    t += c.dt;
    streams[c.stream ?? (i++ % 2)].pushAt(c.bytes, t);
    if (i % 17 === 0) JSON.stringify(session.snapshot(t)); // the live view must hold too
  }
  const f = await session.finalize("exit", { code: 1, signal: null });
  const spans = buildSpans({ ids, result: f.result, mode: "wrap", serviceName: "fuzz", resource: {}, root: {}, phase: () => ({}) });
  return { f, spans, snapshot: session.snapshot(t + 1) };
}

const hr = (h: [number, number]) => h[0] * 1e9 + h[1];
const CANONICAL = new Set<string>([...ALL_PHASES, "vllm.startup"]);

function checkNumbers(where: string, attrs: Record<string, unknown>): void {
  for (const [k, v] of Object.entries(attrs)) {
    const vals = Array.isArray(v) ? v : [v];
    for (const x of vals) if (typeof x === "number" && !Number.isFinite(x)) throw new Error(`${where}: ${k} = ${x}`);
  }
}

function checkSpans(spans: ReadableSpan[]): void {
  const byId = new Map(spans.map((s) => [s.spanContext().spanId, s]));
  const roots = spans.filter((s) => s.name === "vllm.startup");
  expect(roots).toHaveLength(1);
  expect(roots[0].parentSpanContext).toBeUndefined();
  for (const s of spans) {
    if (!CANONICAL.has(s.name)) throw new Error(`non-canonical span name ${JSON.stringify(s.name)}`);
    for (const h of [s.startTime, s.endTime, s.duration]) {
      if (!h.every((x) => Number.isInteger(x) && Number.isFinite(x))) throw new Error(`${s.name}: bad time ${h}`);
    }
    if (hr(s.startTime) > hr(s.endTime)) throw new Error(`${s.name}: starts after it ends`);
    if (hr(s.duration) < 0) throw new Error(`${s.name}: negative duration`);
    checkNumbers(s.name, s.attributes);
    for (const e of s.events) checkNumbers(`${s.name} event ${e.name}`, e.attributes ?? {});
    const d = s.attributes["vllm.startup.phase.duration_s"];
    if (d !== undefined && !(typeof d === "number" && d >= 0)) throw new Error(`${s.name}: duration_s ${d}`);
    expect(s.spanContext().traceId).toBe(ids.traceId);
    if (s.name === "vllm.startup") continue;
    const parent = byId.get(s.parentSpanContext?.spanId ?? "");
    if (!parent) throw new Error(`${s.name}: parent does not exist`);
    const want = allowedParents(s.name);
    if (parent.name !== "vllm.startup" && !want.includes(parent.name)) throw new Error(`${s.name}: parent ${parent.name}`);
  }
  expect(new Set(spans.map((s) => s.name)).size).toBe(spans.length); // one span per phase
}

function checkSummaryNumbers(value: unknown, path = "summary"): void {
  if (typeof value === "number" && !Number.isFinite(value)) throw new Error(`${path} = ${value}`);
  if (value && typeof value === "object") for (const [k, v] of Object.entries(value)) checkSummaryNumbers(v, `${path}.${k}`);
}

describe("hostile log input never breaks the parser or the trace", () => {
  test("random streams: no throw, valid spans, finite summary", async () => {
    await fc.assert(fc.asyncProperty(stream, fc.boolean(), async (chunks, serverMode) => {
      const { f, spans, snapshot } = await trace(chunks, serverMode);
      checkSpans(spans);
      checkSummaryNumbers(f.summary);
      checkSummaryNumbers(snapshot);
      for (const p of f.summary.phases) {
        if (p.duration_s !== null) expect(p.duration_s).toBeGreaterThanOrEqual(0);
        expect(CANONICAL.has(p.name)).toBe(true);
      }
      encode(spans, "http/protobuf");
      encode(spans, "http/json");
    }), { numRuns: 400 });
  }, 20_000);

  test("absurd printed durations on a complete start-up stay finite and non-negative", async () => {
    await fc.assert(fc.asyncProperty(fc.array(absurd, { minLength: 12, maxLength: 12 }), fc.boolean(), async (nums, twoRanks) => {
      const lines: string[] = [];
      const ranks = twoRanks ? ["(Worker_TP0 pid=1) ", "(Worker_TP1 pid=2) "] : ["(EngineCore_DP0 pid=3) "];
      lines.push("INFO 01-02 03:04:05 [__init__.py:216] Automatically detected platform cuda.");
      lines.push("(APIServer pid=4) INFO 01-02 03:04:05 [api_server.py:1842] vLLM API server version 0.11.0");
      for (const r of ranks) {
        const h = `${r}INFO 01-02 03:04:05 [x.py:1] `;
        lines.push(`${h}Starting to load model /m...`, `${h}Loading weights took ${nums[0]} seconds`,
          `${h}Model loading took ${nums[1]} GiB and ${nums[2]} seconds`, `${h}Dynamo bytecode transform time: ${nums[3]} s`,
          `${h}Compiling a graph for dynamic shape takes ${nums[4]} s`, `${h}torch.compile takes ${nums[5]} s in total`,
          `${h}Memory profiling takes ${nums[6]} seconds.`, `${h}Available KV cache memory: ${nums[7]} GiB`,
          `${h}GPU KV cache size: ${nums[8]} tokens`, `${h}Graph capturing finished in ${nums[9]} secs, took ${nums[10]} GiB`);
      }
      lines.push(`(EngineCore_DP0 pid=3) INFO 01-02 03:04:05 [core.py:210] init engine (profile, create kv cache, warmup model) took ${nums[11]} seconds`);
      lines.push("(APIServer pid=4) INFO:     Application startup complete.");
      // Interleave the ranks' lines line by line, 10 ms apart.
      const chunks = lines.map((l, i) => ({ bytes: enc.encode(`${l}\n`), dt: 10, stream: i % 2 }));
      const { f, spans } = await trace(chunks);
      expect(f.result.outcome).toBe("ready");
      checkSpans(spans);
      checkSummaryNumbers(f.summary);
      expect(spans.map((s) => s.name)).toContain("model_loading");
    }), { numRuns: 150 });
  }, 20_000);

  test("ANSI codes and multi-byte characters split at every byte boundary parse like the whole line", async () => {
    const line = enc.encode("\x1b[1;36m(Worker_TP1 pid=2)\x1b[0;0m INFO 01-02 03:04:05 [default_loader.py:262] Loading weights took 1.71 seconds ✓\n");
    const start = enc.encode("\x1b[1;36m(Worker_TP1 pid=2)\x1b[0;0m INFO 01-02 03:04:05 [gpu_model_runner.py:1953] Starting to load model /m...\n");
    for (let cut = 1; cut < line.length; cut++) {
      const { f } = await trace([{ bytes: start, dt: 5, stream: 0 }, { bytes: line.subarray(0, cut), dt: 5, stream: 0 },
        { bytes: line.subarray(cut), dt: 0, stream: 0 }]);
      const lw = f.result.phases.find((p) => p.name === "load_weights");
      expect(lw?.durationS).toBe(1.71);
    }
  }, 20_000);
});

// ---- memory ------------------------------------------------------------------
function heapAfterGc(): number {
  Bun.gc(true);
  Bun.gc(true);
  return process.memoryUsage().heapUsed;
}

describe("memory stays bounded", () => {
  test("64 MiB without a newline, then a marker line that is still recognised", async () => {
    const session = new StartupSession({ ids, mode: "wrap", t0: T0, exportConfig: disabled, stateDir: "/nonexistent", serverMode: true });
    const s = session.newStream();
    const chunk = new Uint8Array(64 * 1024).fill(0x78); // "x"
    s.pushAt(enc.encode("INFO 01-02 03:04:05 [x.py:1] Starting to load model /m... "), T0 + 1);
    const before = heapAfterGc();
    for (let i = 0; i < 1024; i++) s.pushAt(chunk, T0 + 2);
    const growth = heapAfterGc() - before;
    expect(growth).toBeLessThan(16 * 1024 * 1024);
    s.pushAt(enc.encode("\nINFO 01-02 03:04:05 [x.py:1] Starting to load model /m...\n"), T0 + 100);
    s.pushAt(enc.encode("INFO 01-02 03:04:05 [x.py:1] Loading weights took 2.50 seconds\n"), T0 + 2600);
    const f = await session.finalize("exit", { code: 0, signal: null });
    expect(f.result.phases.find((p) => p.name === "load_weights")?.durationS).toBe(2.5);
  }, 20_000);

  test("10^6 \\r progress redraws (and 64 MiB of them in one line) keep the heap small", async () => {
    const session = new StartupSession({ ids, mode: "wrap", t0: T0, exportConfig: disabled, stateDir: "/nonexistent", serverMode: true });
    const s = session.newStream();
    const redraw = (i: number) => `\rLoading safetensors checkpoint shards: ${i % 100}% Completed | ${i}/1000000`;
    const perChunk = 10_000;
    const before = heapAfterGc();
    let t = T0;
    for (let c = 0; c < 100; c++) {
      let text = "";
      for (let i = c * perChunk; i < (c + 1) * perChunk; i++) text += redraw(i);
      s.pushAt(enc.encode(text), (t += 1));
    }
    const growth = heapAfterGc() - before;
    expect(growth).toBeLessThan(16 * 1024 * 1024);
    s.pushAt(enc.encode("\nINFO 01-02 03:04:05 [x.py:1] Starting to load model /m...\n"), (t += 10));
    s.pushAt(enc.encode("INFO 01-02 03:04:05 [x.py:1] Loading weights took 1.25 seconds\n"), (t += 1250));
    const f = await session.finalize("exit", { code: 0, signal: null });
    expect(f.result.phases.find((p) => p.name === "load_weights")?.durationS).toBe(1.25);
    checkSpans(buildSpans({ ids, result: f.result, mode: "wrap", serviceName: "fuzz", resource: {}, root: {}, phase: () => ({}) }));
  }, 20_000);

  test("marker lines from 200k different pids keep the heap small, and the start-up is still traced", async () => {
    const session = new StartupSession({ ids, mode: "wrap", t0: T0, exportConfig: disabled, stateDir: "/nonexistent", serverMode: true });
    const s = session.newStream();
    const before = heapAfterGc();
    let t = T0;
    for (let c = 0; c < 200; c++) {
      let text = "";
      for (let i = c * 1000; i < (c + 1) * 1000; i++) {
        text += `(VllmWorker rank=${i} pid=${100000 + i}) INFO 01-02 03:04:05 [x.py:1] Starting to load model /m...\n` +
          `(VllmWorker rank=${i} pid=${100000 + i}) INFO 01-02 03:04:05 [x.py:1] Traceback (most recent call last):\n`;
      }
      s.pushAt(enc.encode(text), (t += 1));
    }
    const growth = heapAfterGc() - before;
    expect(growth).toBeLessThan(16 * 1024 * 1024);
    s.pushAt(enc.encode("(VllmWorker rank=0 pid=100000) INFO 01-02 03:04:05 [x.py:1] Loading weights took 1.50 seconds\n"), (t += 1500));
    const f = await session.finalize("exit", { code: 0, signal: null });
    expect(f.result.phases.find((p) => p.name === "load_weights")?.durationS).toBe(1.5);
    checkSpans(buildSpans({ ids, result: f.result, mode: "wrap", serviceName: "fuzz", resource: {}, root: {}, phase: () => ({}) }));
  }, 30_000);
});

// ---- end to end ----------------------------------------------------------------
/** An environment for Bun.spawn: undefined removes a variable. */
function spawnEnv(e: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(Object.entries(e).filter(([, v]) => v !== undefined)) as Record<string, string>;
}

describe("a 64 MiB line through the real binary", () => {
  test("passthrough byte-exact, peak RSS bounded, phases still traced", async () => {
    const state = tempStateDir();
    const summary = join(state, "s.json");
    const child = join(ROOT, "test", "fixtures", "children", "huge-line.ts");
    const proc = Bun.spawn([...tracerCmd(), "--state-dir", state, "--summary-json", summary, "--no-history", "--quiet",
      "--", process.execPath, child], {
      stdout: "pipe", stderr: "pipe",
      env: spawnEnv({ ...process.env, OTEL_EXPORTER_OTLP_ENDPOINT: undefined, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: undefined }),
    });
    const killer = setTimeout(() => proc.kill("SIGKILL"), 40_000);
    // The tracer's peak RSS (VmHWM only grows): the last reading before it exits.
    let hwmKb = 0;
    let exited = false;
    const watch = (async () => {
      while (!exited) {
        try {
          const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${proc.pid}/status`, "utf8"));
          if (m) hwmKb = Math.max(hwmKb, Number(m[1]));
        } catch { /* gone */ }
        await Bun.sleep(20);
      }
    })();
    const hash = createHash("sha256");
    let bytes = 0;
    const reader = proc.stdout.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      hash.update(value);
      bytes += value.length;
    }
    const err = await new Response(proc.stderr).text();
    const code = await proc.exited;
    exited = true;
    await watch;
    clearTimeout(killer);
    expect(code).toBe(0);
    // The child's own sha256 of what it wrote (it prints it on stderr).
    const want = /child-sha256 ([0-9a-f]{64}) (\d+)/.exec(err);
    expect(want).not.toBeNull();
    expect(bytes).toBe(Number(want![2]));
    expect(hash.digest("hex")).toBe(want![1]);
    expect(hwmKb).toBeGreaterThan(0);
    console.log(`tracer peak RSS (VmHWM): ${(hwmKb / 1024).toFixed(1)} MiB`);
    expect(hwmKb * 1024).toBeLessThan(150 * 1024 * 1024);
    const sum = JSON.parse(readFileSync(summary, "utf8"));
    expect(sum.outcome).toBe("ready");
    const names = sum.phases.map((p: { name: string }) => p.name);
    for (const n of ["model_loading", "load_weights", "torch_compile", "kv_cache_profiling", "cuda_graph_capture"]) expect(names).toContain(n);
    // A 200x replay compresses the timeline; vLLM's printed value is kept beside the span.
    expect(sum.phases.find((p: { name: string }) => p.name === "load_weights").attributes["vllm.startup.phase.printed_duration_s"]).toBe(1.71);
  }, 45_000);
});
