// `startup-tracer advise` and the advice at the end of a start-up, through the
// real binary: import writes the summary's `advice`, the end table shows it,
// the trace file's root span carries one `vllm.startup.advice` event per item,
// and `advise` gives the same advice from the log, the summary and the trace file.
import { describe, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LOGS, runTracer, tempStateDir } from "../helpers/tracer.ts";

const DGX = join(LOGS, "v0.11.0-gb10-dgxspark-mistral7b-gptq-ok.log");
const HIT = join(LOGS, "paper-h100nvl", "v0.10.1.1-h100nvl-qwen-0.5b.log");

describe("advice after import, and advise on each kind of input", async () => {
  const state = tempStateDir();
  const summaryPath = join(state, "summary.json");
  const imp = await runTracer(["import", DGX, "--state-dir", state, "--no-history", "--summary-json", summaryPath]);
  const summary = JSON.parse(readFileSync(summaryPath, "utf8"));
  const traceFile = join(state, "traces", readdirSync(join(state, "traces"))[0]);

  test("the summary keeps its schema and gains `advice`, biggest saving first", () => {
    expect(imp.code).toBe(0);
    expect(summary.schema).toBe("startup-tracer.summary/v1");
    expect(Array.isArray(summary.advice)).toBe(true);
    const levers = summary.advice.map((a: { lever: string }) => a.lever);
    expect(levers).toContain("compile_cache");
    expect(levers).toContain("cuda_graph_sizes");
    for (const a of summary.advice) for (const k of ["lever", "phase", "saving_s", "evidence", "action"]) expect(a[k]).toBeDefined();
    for (let i = 1; i < summary.advice.length; i++) expect(summary.advice[i - 1].saving_s).toBeGreaterThanOrEqual(summary.advice[i].saving_s);
  });

  test("the end table lists it under the blame table", () => {
    const after = imp.err.slice(imp.err.indexOf("outcome: ready"));
    expect(after).toContain("what to try");
    expect(after).toContain("compile_cache");
    expect(after).toContain("VLLM_CACHE_ROOT");
  });

  test("the trace file's root span has one vllm.startup.advice event per item", () => {
    const body = JSON.parse(readFileSync(traceFile, "utf8"));
    const spans = body.resourceSpans.flatMap((r: any) => r.scopeSpans.flatMap((s: any) => s.spans));
    const root = spans.find((s: any) => s.name === "vllm.startup");
    const events = root.events.filter((e: any) => e.name === "vllm.startup.advice");
    expect(events.length).toBe(summary.advice.length);
    const first = Object.fromEntries(events[0].attributes.map((a: any) => [a.key, Object.values(a.value)[0]]));
    expect(first["vllm.startup.advice.lever"]).toBe(summary.advice[0].lever);
    expect(Number(first["vllm.startup.advice.rank"])).toBe(1);
  });

  test("advise --json gives the same levers from the log, the summary and the trace file", async () => {
    const fromLog = await runTracer(["advise", DGX, "--json", "--state-dir", state]);
    const fromSummary = await runTracer(["advise", summaryPath, "--json"]);
    const fromTrace = await runTracer(["advise", traceFile, "--json"]);
    for (const r of [fromLog, fromSummary, fromTrace]) expect(r.code).toBe(0);
    const [l, s, t] = [fromLog, fromSummary, fromTrace].map((r) => JSON.parse(r.out));
    expect(l.schema).toBe("startup-tracer.advice/v1");
    expect(l.input).toBe("log");
    expect(s.input).toBe("summary");
    expect(t.input).toBe("trace");
    const set = (x: any) => x.advice.map((a: any) => a.lever).sort();
    expect(set(l)).toEqual(summary.advice.map((a: any) => a.lever).sort());
    expect(set(s)).toEqual(set(l));
    expect(set(t)).toEqual(set(l));
    // The config line's capture sizes travel on the phase (vllm.startup.cuda_graph.config_sizes): all three say 67.
    for (const x of [l, s, t]) expect(x.advice.find((a: any) => a.lever === "cuda_graph_sizes").evidence).toContain("67 batch sizes");
  });

  test("advise prints readable advice", async () => {
    const r = await runTracer(["advise", DGX]);
    expect(r.code).toBe(0);
    expect(r.out).toContain("compile_cache on graph_compile");
    expect(r.out).toContain("evidence:");
  });
});

test("a compile-cache hit gets no compile_cache advice", async () => {
  const r = await runTracer(["advise", HIT, "--json"]);
  expect(r.code).toBe(0);
  expect(JSON.parse(r.out).advice.map((a: any) => a.lever)).not.toContain("compile_cache");
});

test("bad input: one line and exit status 2; --help exit 0", async () => {
  const dir = mkdtempSync(join(tmpdir(), "st-advise-"));
  const notJson = join(dir, "x.json");
  writeFileSync(notJson, "{ nope");
  const otherJson = join(dir, "y.json");
  writeFileSync(otherJson, JSON.stringify({ hello: 1 }));
  const text = join(dir, "z.txt");
  writeFileSync(text, "hello\nworld\n");
  for (const args of [["advise"], ["advise", join(dir, "missing.log")], ["advise", notJson], ["advise", otherJson], ["advise", text], ["advise", text, "--bogus"]]) {
    const r = await runTracer(args);
    expect(r.code).toBe(2);
    expect(r.err.trim().split("\n").length).toBe(1);
    expect(r.err).toContain("startup-tracer advise");
  }
  const h = await runTracer(["advise", "--help"]);
  expect(h.code).toBe(0);
  expect(h.out).toContain("--json");
});
