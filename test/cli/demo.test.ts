// The main job on a machine without vLLM or a GPU: `demo` wraps a replay of
// the real log shipped in demo/ and shows the result and where the trace went.
import { expect, test } from "bun:test";
import { chmodSync, copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT, runTracer, tempStateDir } from "../helpers/tracer.ts";

test("demo replays the shipped log, prints the blame table and writes the trace", async () => {
  const state = tempStateDir();
  const r = await runTracer(["demo", "--speed", "100", "--state-dir", state], {
    env: { OTEL_EXPORTER_OTLP_ENDPOINT: undefined, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: undefined },
  });
  expect(r.code).toBe(0);
  // The child's output came through, the table is at the end, the trace is on disk.
  expect(r.out).toContain("Starting vLLM API server 0 on"); // vLLM records on stdout
  expect(r.err).toContain("Application startup complete."); // uvicorn on stderr, as vLLM does
  expect(r.err).toContain("vLLM 0.11.0+582e4e37.nv25.11");
  for (const p of ["bootstrap", "model_loading", "load_weights", "torch_compile", "kv_cache_profiling", "cuda_graph_capture", "server_start"]) {
    expect(r.err).toContain(p);
  }
  expect(r.err).toContain("outcome: ready");
  // Time counts 100x over: the trace has the recorded start-up's timeline (124 s by the log's own
  // timestamps, as `import` reads it), plus the replay's own start-up scaled up with it.
  const ready = Number(/ready in ([\d.]+) s/.exec(r.err)?.[1]);
  expect(ready).toBeGreaterThan(120);
  expect(ready).toBeLessThan(140);
  expect(r.err).toMatch(/\n\s+load_weights\s+19\.6 s/); // vLLM's printed duration, on the same timeline
  expect(r.err).not.toMatch(/\s(1\d\d|[2-9]\d\d)\.\d%/); // no phase's share of the start-up beyond 100 %
  const m = /written to (\S+\.otlp\.json)/.exec(r.err);
  expect(m).not.toBeNull();
  expect(existsSync(m![1])).toBe(true);
  const root = JSON.parse(readFileSync(m![1], "utf8")).resourceSpans[0].scopeSpans.flatMap((x: { spans: unknown[] }) => x.spans)
    .find((x: { name: string }) => x.name === "vllm.startup");
  const scale = root.attributes.find((a: { key: string }) => a.key === "vllm.startup.time_scale")?.value;
  expect(Number(scale?.intValue ?? scale?.doubleValue)).toBe(100); // a demo trace says it was scaled
  // The shipped log is the one its SOURCE.md names, byte for byte.
  expect(readFileSync(join(ROOT, "demo", "SOURCE.md"), "utf8")).toContain("v0.11.0-gb10-dgxspark-mistral7b-gptq-ok.log");
  const shipped = readFileSync(join(ROOT, "demo", "vllm-0.11.0-dgx-spark-mistral7b.log"));
  const original = readFileSync(join(ROOT, "..", "shared", "vllm-logs", "v0.11.0-gb10-dgxspark-mistral7b-gptq-ok.log"));
  expect(shipped.equals(original)).toBe(true);
}, 60_000);

// Only the compiled binary can be installed alone; `make test` always sets STARTUP_TRACER_BIN.
test.skipIf(!process.env.STARTUP_TRACER_BIN)("demo works where the binary is installed alone (the copy of the log built into it)", async () => {
  const bin = process.env.STARTUP_TRACER_BIN!;
  const dir = mkdtempSync(join(tmpdir(), "st-alone-"));
  copyFileSync(bin, join(dir, "startup-tracer"));
  chmodSync(join(dir, "startup-tracer"), 0o755);
  const proc = Bun.spawn([join(dir, "startup-tracer"), "demo", "--speed", "200", "--state-dir", tempStateDir()], {
    cwd: dir, stdout: "ignore", stderr: "pipe",
    env: { ...process.env, OTEL_EXPORTER_OTLP_ENDPOINT: "", OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "" } as Record<string, string>,
  });
  const err = await new Response(proc.stderr).text();
  expect(await proc.exited).toBe(0);
  expect(err).toContain("vLLM 0.11.0+582e4e37.nv25.11");
  expect(err).toContain("outcome: ready");
  const tmp = /replaying a real vLLM 0\.11\.0 start-up \((\S+)\)/.exec(err)![1];
  expect(existsSync(tmp)).toBe(false); // the temporary copy is removed afterwards
  rmSync(dir, { recursive: true, force: true });
}, 60_000);
