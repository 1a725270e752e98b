// The predictor on the live path and on history built from real logs:
// - wrap `replay` of a real log: every phase span carries its predicted
//   duration, the live /status shows a prediction for the phase in flight as
//   soon as it starts, and the predicted total / ETA move when phases end;
// - `fit` on a local history built by importing several real logs.
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { startReceiver } from "../helpers/otlp-receiver.ts";
import { LOGS, runTracer, tempStateDir, tracerCmd, freePort } from "../helpers/tracer.ts";
import { LLAMA2_7B_CONFIG, llamaTensors, makeModelDir, tmp } from "./fixtures.ts";

const LLAMA_LOG = join(LOGS, "paper-h100nvl", "v0.10.1.1-h100nvl-llama2-7b-hf.log");

describe("live predictions while a start-up runs", () => {
  test("predicted on spans and summary; known at phase start; ETA updated after phases end", async () => {
    const model = makeModelDir(join(tmp(), "llama-2-7b-hf"), LLAMA2_7B_CONFIG, llamaTensors(LLAMA2_7B_CONFIG)).dir;
    const rx = startReceiver();
    const state = tempStateDir();
    const port = freePort();
    const summaryPath = join(state, "summary.json");
    const proc = Bun.spawn([...tracerCmd(), "--otlp-endpoint", rx.url, "--state-dir", state, "--summary-json", summaryPath,
      "--model", model, "--listen", `127.0.0.1:${port}`, "--quiet", "--",
      ...tracerCmd(), "replay", LLAMA_LOG, "--speed", "8", "--exit-when-done"], { stdout: "ignore", stderr: "pipe" });
    const snaps: any[] = [];
    const poll = (async () => {
      while (proc.exitCode === null) {
        try {
          const r = await fetch(`http://127.0.0.1:${port}/status`);
          if (r.ok) snaps.push(await r.json());
        } catch { /* not up yet */ }
        await Bun.sleep(40);
      }
    })();
    expect(await proc.exited).toBe(0);
    await poll;
    rx.stop();

    // Spans: every phase the predictor models has its prediction attached.
    const spans = rx.spans;
    for (const name of ["bootstrap", "model_loading", "load_weights", "torch_compile", "kv_cache_profiling", "cuda_graph_capture"]) {
      const s = spans.find((x) => x.name === name);
      expect(s).toBeDefined();
      expect(typeof s!.attributes["vllm.startup.phase.predicted_duration_s"]).toBe("number");
    }
    const root = spans.find((x) => x.name === "vllm.startup")!;
    expect(typeof root.attributes["vllm.startup.predicted_total_s"]).toBe("number");
    const sum = JSON.parse(readFileSync(summaryPath, "utf8"));
    expect(sum.phases.find((p: any) => p.name === "load_weights").predicted_s).toBeGreaterThan(0);

    // Live: whenever a phase was in flight, /status already had its prediction.
    const running = snaps.filter((s) => s.outcome === "running" && s.current_phase);
    expect(running.length).toBeGreaterThan(5);
    for (const s of running) {
      const cur = s.phases.find((p: any) => p.name === s.current_phase && p.status === "running");
      if (cur && ["model_loading", "load_weights", "torch_compile", "kv_cache_profiling"].includes(cur.name)) {
        expect(cur.predicted_s).not.toBeNull();
      }
    }
    // The predicted total changes after a phase ends (rescaled from this machine's pace).
    let changedAfterEnd = false;
    for (let i = 1; i < running.length; i++) {
      const a = running[i - 1];
      const b = running[i];
      const endedA = a.phases.filter((p: any) => p.status === "ok").length;
      const endedB = b.phases.filter((p: any) => p.status === "ok").length;
      if (endedB > endedA && b.predicted_total_s !== a.predicted_total_s) changedAfterEnd = true;
    }
    expect(changedAfterEnd).toBe(true);
    expect(running.some((s) => typeof s.eta_s === "number")).toBe(true);

    // The ETA as it stood when each phase began: on the summary's phases and their spans.
    const withEta = sum.phases.filter((p: any) => typeof p.eta_s === "number");
    expect(withEta.length).toBeGreaterThan(3);
    for (const p of withEta) {
      const span = spans.find((x) => x.name === p.name);
      if (span) expect(span.attributes["vllm.startup.phase.eta_s"]).toBe(p.eta_s);
    }
    // The hardware the prediction assumed, with its uncertainty and fleet key, on the root span.
    expect(typeof root.attributes["vllm.startup.hardware.class"]).toBe("string");
    expect(root.attributes["vllm.startup.prediction.sigma"]).toBeGreaterThan(0);
    expect(String(root.attributes["vllm.startup.fleet"])).toContain("llama-2-7b-hf");
  }, 60_000);
});

describe("fit on a local history of imported real logs", () => {
  test("imports feed the history; fit calibrates; predict then reports local calibration", async () => {
    const state = tempStateDir();
    const logs = [
      join(LOGS, "paper-h100nvl", "v0.10.1.1-h100nvl-llama2-7b-hf.log"),
      join(LOGS, "paper-h100nvl", "v0.10.1.1-h100nvl-qwen-0.5b.log"),
      join(LOGS, "v0.11.0-gb10-dgxspark-mistral7b-gptq-ok.log"),
      join(LOGS, "v0.8.5-rocm-gfx906-16gb-qwen3-0.6b-v0-fallback-ok.log"),
    ];
    for (const l of logs) {
      const r = await runTracer(["import", l, "--state-dir", state, "--quiet"], { env: { OTEL_SDK_DISABLED: "true" } });
      expect(r.code).toBe(0);
    }
    const fit = await runTracer(["fit", "--state-dir", state, "--json"]);
    expect(fit.code).toBe(0);
    const report = JSON.parse(fit.out);
    expect(JSON.stringify(report)).toMatch(/scale|lstsq|least/i);
    const model = makeModelDir(join(tmp(), "llama-2-7b-hf"), LLAMA2_7B_CONFIG, llamaTensors(LLAMA2_7B_CONFIG)).dir;
    const pred = await runTracer(["predict", "--model", model, "--json", "--state-dir", state]);
    expect(pred.code).toBe(0);
    const p = JSON.parse(pred.out);
    expect(p.calibration).toBe("local");
    expect(p.total_s).toBeGreaterThan(0);
    const ref = JSON.parse((await runTracer(["predict", "--model", model, "--json", "--state-dir", tempStateDir()])).out);
    expect(ref.calibration).toBe("reference");
    expect(p.total_s).not.toBe(ref.total_s);
  }, 60_000);
});

describe("fleet memory on the live path", () => {
  test("the second wrapped start-up of the same key predicts its phases from the first", async () => {
    const state = tempStateDir();
    const run = async (n: number) => {
      const rx = startReceiver();
      const summaryPath = join(state, `summary-${n}.json`);
      const proc = Bun.spawn([...tracerCmd(), "--otlp-endpoint", rx.url, "--state-dir", state, "--summary-json", summaryPath, "--quiet", "--",
        ...tracerCmd(), "replay", LLAMA_LOG, "--speed", "8", "--exit-when-done"], { stdout: "ignore", stderr: "ignore" });
      expect(await proc.exited).toBe(0);
      rx.stop();
      const root = rx.spans.find((x) => x.name === "vllm.startup")!;
      return { root, sum: JSON.parse(readFileSync(summaryPath, "utf8")) };
    };
    const first = await run(1);
    const second = await run(2);
    expect(second.root.attributes["vllm.startup.fleet"]).toBe(first.root.attributes["vllm.startup.fleet"]);
    expect(second.root.attributes["vllm.startup.prediction.basis"]).toBe("history");
    // a phase that began after the key was recognised is predicted as the first run measured it
    const measured = first.sum.phases.find((p: any) => p.name === "cuda_graph_capture").duration_s;
    const predicted = second.sum.phases.find((p: any) => p.name === "cuda_graph_capture").predicted_s;
    expect(Math.abs(predicted - measured)).toBeLessThanOrEqual(0.1 * measured + 0.001);
  }, 90_000);
});
