// Wrap mode: the TrackerEvents callbacks fire as lines arrive (they feed live
// predictions and slow-phase alerts), and the final result agrees with import.
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseLine } from "../../src/logparse/anatomy.ts";
import { LogClock } from "../../src/logparse/log-clock.ts";
import { OFFLINE_READY_GRACE_MS, PhaseTracker } from "../../src/phases/tracker.ts";

const DIR = join(process.cwd(), "..", "shared", "vllm-logs");

function replay(file: string, opts: { serverMode?: boolean } = {}) {
  const lines = readFileSync(join(DIR, file), "utf8").split(/\r?\n|\r/);
  const clock = new LogClock(2025);
  const events: string[] = [];
  let tracker: PhaseTracker | null = null;
  const seen: { line: number; current: string | null }[] = [];
  let failed: string | null = null;
  let readyAt: number | null = null;
  let last = 0;
  lines.forEach((raw, i) => {
    const l = parseLine(raw);
    const t = clock.time(l) ?? last;
    last = t;
    if (!tracker && t) {
      tracker = new PhaseTracker(t, {
        onPhaseStart: (n) => events.push(`+${n}`),
        onPhaseEnd: (n) => events.push(`-${n}`),
        onReady: (tt) => (readyAt = tt),
        onFailed: (_t, e) => (failed = e),
      }, opts);
    }
    if (!tracker) return;
    tracker.feed(l, t);
    seen.push({ line: i, current: tracker.currentPhase() });
  });
  return { tracker: tracker!, events, seen, failed: () => failed, readyAt: () => readyAt, last };
}

describe("live callbacks", () => {
  test("GB10 server start-up: phases start and end in order, ready fires", () => {
    const r = replay("v0.11.0-gb10-dgxspark-mistral7b-gptq-ok.log", { serverMode: true });
    const ev = r.events;
    const idx = (e: string) => ev.indexOf(e);
    for (const e of ["+bootstrap", "-bootstrap", "+model_loading", "-model_loading", "+torch_compile", "-torch_compile", "+kv_cache_profiling", "-kv_cache_profiling", "+cuda_graph_capture", "-cuda_graph_capture", "+server_start", "-server_start"]) {
      expect(idx(e), e).toBeGreaterThanOrEqual(0);
    }
    expect(idx("-bootstrap")).toBeLessThan(idx("-model_loading"));
    expect(idx("+torch_compile")).toBeLessThan(idx("+kv_cache_profiling"));
    expect(idx("+cuda_graph_capture")).toBeLessThan(idx("+server_start"));
    expect(r.readyAt()).not.toBeNull();
    expect(r.tracker.done).toBe(true);
    // While weights load, model_loading runs: where weight loading started is known
    // only when vLLM prints its duration, then both steps are placed back.
    expect(r.seen.some((s) => s.current === "model_loading")).toBe(true);
    expect(r.seen.some((s) => s.current === "model_init")).toBe(false);
    expect(idx("+model_init")).toBeGreaterThan(idx("+model_loading"));
    expect(idx("+load_weights")).toBeGreaterThan(idx("-model_init"));
    // The forward pass after compilation is profiling, live as in the final layout.
    expect(idx("-torch_compile")).toBeLessThan(idx("+kv_cache_profiling"));
    expect(idx("+profile_run")).toBeGreaterThan(idx("+kv_cache_profiling"));
    for (const e of ["+model_warmup", "-model_warmup", "+autotuning", "-autotuning"]) expect(idx(e), e).toBeGreaterThanOrEqual(0);
    const res = r.tracker.finish(r.last, "exit", { code: 0, signal: null });
    expect(res.outcome).toBe("ready");
    expect(res.phases.find((p) => p.name === "load_weights")!.printedS).toBe(19.62);
  });

  test("worker crash at device init: onFailed carries the exception line, not the marker", () => {
    const r = replay("v0.10.0-era-dev8023-rocm-radeon-r9700-tp2-qwen3-8b-fp8-failed-worker-invalid-device-ordinal.log", { serverMode: true });
    expect(r.failed()).toBe("torch.AcceleratorError: HIP error: invalid device ordinal");
    const res = r.tracker.finish(r.last, "exit", { code: 1, signal: null });
    expect(res.outcome).toBe("failed");
    const wi = res.phases.find((p) => p.name === "worker_init")!;
    expect(wi.status).toBe("error");
    expect(res.phases.some((p) => p.name === "model_loading")).toBe(false);
  });

  test("HIP memory fault without traceback: failed at the fault line", () => {
    const r = replay("v0.11.1rc2-rocm-strixhalo-gfx1151-granite4-350m-failed-gpu-memfault.log", { serverMode: true });
    const res = r.tracker.finish(r.last, "exit", { code: null, signal: "SIGABRT" });
    expect(res.outcome).toBe("failed");
    expect(res.error!.startsWith("Memory access fault by GPU node-1")).toBe(true);
    expect(r.failed()).toBe(res.error);
  });

  test("child exits without readiness or error: exited", () => {
    const t = new PhaseTracker(1000);
    t.feedRaw("INFO 01-23 15:48:28 [__init__.py:216] Automatically detected platform cuda.", 1500);
    const res = t.finish(3000, "exit", { code: 0, signal: null });
    expect(res.outcome).toBe("exited");
    expect(res.phases.find((p) => p.name === "bootstrap")!.status).toBe("running");
  });

  test("offline engine in wrap mode: ready at the engine's init line, once no server line followed it", () => {
    const r = replay("v0.11.0-cpu-arm64-qwen2.5-0.5b-offline-ok.log");
    // Not known to be a server or not: readiness waits for a server's lines a few seconds.
    expect(r.readyAt()).toBeNull();
    r.tracker.poll(r.last + 1000);
    expect(r.readyAt()).toBeNull();
    r.tracker.poll(r.last + OFFLINE_READY_GRACE_MS);
    expect(r.readyAt()).toBe(r.last); // the engine's init line, not the moment of the decision
    expect(r.tracker.finish(r.last + OFFLINE_READY_GRACE_MS, "eof").outcome).toBe("ready");
  });

  test("a server whose command did not say so: server lines after the engine's turn readiness into HTTP readiness", () => {
    const r = replay("v0.21.0-rtx3090ti-vm-docker-qwen3-0.6b-ok-tail-no-startup-complete.log");
    r.tracker.poll(r.last + OFFLINE_READY_GRACE_MS);
    expect(r.readyAt()).toBeNull(); // no "Application startup complete" in this tail
    expect(r.events).toContain("+server_start");
  });
});
