// SlowPhaseDetector with real timers and short durations, and the budget parser.
import { describe, expect, test } from "bun:test";
import {
  SlowPhaseDetector,
  parseBudget,
  parseDuration,
  type ResolveEvent,
  type SlowEvent,
} from "../../src/alerts/slow-detector.ts";

const now = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Waits until `done()` or `maxMs` (a loaded machine runs timers late; the assertions then say how late). */
async function until(done: () => boolean, maxMs: number): Promise<void> {
  const end = performance.now() + maxMs;
  while (!done() && performance.now() < end) await sleep(10);
}

function recorder(opts: Partial<ConstructorParameters<typeof SlowPhaseDetector>[0]> = {}) {
  const slow: (SlowEvent & { at: number })[] = [];
  const resolved: (ResolveEvent & { at: number })[] = [];
  const d = new SlowPhaseDetector({
    slowFactor: 1.5,
    marginS: 0.1,
    now,
    onSlow: (e) => slow.push({ ...e, at: now() }),
    onResolve: (e) => resolved.push({ ...e, at: now() }),
    ...opts,
  });
  return { d, slow, resolved };
}

describe("SlowPhaseDetector", () => {
  test("flags a running phase the moment it crosses factor x predicted + margin", async () => {
    const { d, slow, resolved } = recorder();
    const start = now();
    d.phaseStarted("model_loading", start, 0.2); // allowance 1.5 * 0.2 + 0.1 = 0.4 s
    await sleep(300);
    expect(slow).toEqual([]); // not yet
    await until(() => slow.length > 0, 2000);
    expect(slow.length).toBe(1); // while still running
    const e = slow[0]!;
    expect(e.phase).toBe("model_loading");
    expect(e.basis).toBe("predicted");
    expect(e.allowance_s).toBeCloseTo(0.4, 9);
    expect(e.elapsed_s).toBeGreaterThanOrEqual(0.4);
    // At the crossing, not at the phase's end (timer slack only; generous for a loaded 2-core machine).
    expect(e.elapsed_s).toBeLessThan(0.9);
    expect((e.at - start) / 1000).toBeLessThan(0.9);
    expect(resolved).toEqual([]);
    d.phaseEnded("model_loading", now());
    expect(resolved.length).toBe(1);
    expect(resolved[0]!.phase).toBe("model_loading");
    expect(resolved[0]!.duration_s).toBeGreaterThanOrEqual(e.elapsed_s); // it ran on past the crossing
    d.stop();
  });

  test("a phase that ends within its allowance is neither flagged nor resolved", async () => {
    const { d, slow, resolved } = recorder();
    d.phaseStarted("bootstrap", now(), 0.2);
    await sleep(150);
    d.phaseEnded("bootstrap", now());
    await sleep(400);
    expect(slow).toEqual([]);
    expect(resolved).toEqual([]);
    d.stop();
  });

  test("one timer for several phases: each flagged at its own deadline, in order", async () => {
    // Count the detector's live timers through the global setTimeout it calls.
    const realSet = globalThis.setTimeout, realClear = globalThis.clearTimeout;
    const live = new Set<unknown>();
    let maxLive = 0;
    globalThis.setTimeout = ((fn: () => void, ms?: number) => {
      const h: unknown = realSet(() => {
        live.delete(h);
        fn();
      }, ms);
      live.add(h);
      maxLive = Math.max(maxLive, live.size);
      return h;
    }) as typeof setTimeout;
    globalThis.clearTimeout = ((h: Parameters<typeof clearTimeout>[0]) => {
      live.delete(h);
      realClear(h);
    }) as typeof clearTimeout;
    let d: SlowPhaseDetector, slow: SlowEvent[];
    try {
      ({ d, slow } = recorder({ marginS: 0 }));
      const t = now();
      d.phaseStarted("torch_compile", t, 0.4); // 0.6 s
      d.phaseStarted("graph_compile", t, 0.1); // 0.15 s
      d.phaseStarted("dynamo_transform", t, 0.2); // 0.3 s
      d.phaseStarted("no_prediction", t, null); // never judged
    } finally {
      globalThis.setTimeout = realSet;
      globalThis.clearTimeout = realClear;
    }
    expect(maxLive).toBe(1); // one timer, re-armed for the earliest deadline
    await until(() => slow.length >= 3, 3000);
    expect(slow.map((e) => e.phase)).toEqual(["graph_compile", "dynamo_transform", "torch_compile"]);
    for (const e of slow) expect(e.elapsed_s - e.allowance_s).toBeLessThan(0.4); // each at its own crossing
    d.stop();
  });

  test("budgets win over predictions; 'total' covers the start-up; startupEnded resolves", async () => {
    const { d, slow, resolved } = recorder({ budgets: { load_weights: 0.15, total: 0.3 } });
    const t = now();
    d.phaseStarted("load_weights", t, 10); // predicted would allow 15.1 s; the budget says 0.15 s
    await until(() => slow.length >= 2, 3000);
    expect(slow.map((e) => [e.phase, e.basis, e.allowance_s])).toEqual([
      ["load_weights", "budget", 0.15],
      ["total", "budget", 0.3],
    ]);
    d.startupEnded(now());
    expect(resolved.map((e) => e.phase).sort()).toEqual(["load_weights", "total"]);
    // Inert afterwards.
    d.phaseStarted("server_start", now(), 0);
    await sleep(200);
    expect(slow.length).toBe(2);
  });

  test("total against a predicted total passed to startupStarted", async () => {
    const { d, slow } = recorder();
    d.startupStarted(now(), 0.1); // 0.25 s
    await until(() => slow.length >= 1, 3000);
    expect(slow.map((e) => [e.phase, e.basis])).toEqual([["total", "predicted"]]);
    d.stop();
  });

  test("a phase that ended past its allowance before the timer ran is still reported (replayed log)", () => {
    const { d, slow, resolved } = recorder();
    const t = now() - 10_000;
    d.phaseStarted("kv_cache_profiling", t, 1); // allowance 1.6 s, long gone
    d.phaseEnded("kv_cache_profiling", t + 5_000); // synchronous: no timer has run
    expect(slow.map((e) => [e.phase, e.elapsed_s])).toEqual([["kv_cache_profiling", 5]]);
    expect(resolved.map((e) => [e.phase, e.duration_s])).toEqual([["kv_cache_profiling", 5]]);
    d.stop();
  });

  test("a repeated start while running keeps the first; stop() disarms; listener errors are contained", async () => {
    let calls = 0;
    const d = new SlowPhaseDetector({
      now,
      marginS: 0,
      onSlow: () => {
        calls++;
        throw new Error("listener broke");
      },
      onResolve: () => {},
    });
    const t = now();
    d.phaseStarted("a", t, 0.1);
    d.phaseStarted("a", t + 10_000, 0.1); // ignored
    d.phaseStarted("b", t, 0.2);
    await until(() => calls >= 2, 3000);
    await sleep(100); // and nothing more
    expect(calls).toBe(2); // the throw in "a" did not stop "b" (nor total: no total budget)
    d.phaseStarted("c", now(), 0.05);
    d.stop();
    await sleep(200);
    expect(calls).toBe(2);
  });

  test("the timer is unref'd: a pending deadline does not keep the process alive", async () => {
    const script = `
      import { SlowPhaseDetector } from ${JSON.stringify(new URL("../../src/alerts/slow-detector.ts", import.meta.url).pathname)};
      const d = new SlowPhaseDetector({ now: Date.now, onSlow: () => console.log("slow"), onResolve: () => {} });
      d.phaseStarted("model_loading", Date.now(), 3600);
      console.log("armed");
    `;
    const t = Date.now();
    const p = Bun.spawn([process.execPath, "-e", script], { stdout: "pipe", stderr: "pipe" });
    const code = await p.exited;
    expect(await new Response(p.stdout).text()).toBe("armed\n");
    expect(code).toBe(0);
    expect(Date.now() - t).toBeLessThan(10_000);
  });

  test("rejects bad options", () => {
    const base = { now, onSlow: () => {}, onResolve: () => {} };
    expect(() => new SlowPhaseDetector({ ...base, slowFactor: 0 })).toThrow(/slow factor/);
    expect(() => new SlowPhaseDetector({ ...base, marginS: -1 })).toThrow(/margin/);
    expect(() => new SlowPhaseDetector({ ...base, budgets: { total: NaN } })).toThrow(/budget for total/);
  });
});

describe("parseBudget / parseDuration", () => {
  test("accepted forms", () => {
    expect(parseBudget("model_loading=90s")).toEqual({ phase: "model_loading", seconds: 90 });
    expect(parseBudget("total=2m")).toEqual({ phase: "total", seconds: 120 });
    expect(parseBudget("torch_compile=1m30s")).toEqual({ phase: "torch_compile", seconds: 90 });
    expect(parseBudget("load_weights=45")).toEqual({ phase: "load_weights", seconds: 45 });
    expect(parseBudget("cuda_graph_capture=1.5m")).toEqual({ phase: "cuda_graph_capture", seconds: 90 });
    expect(parseBudget(" bootstrap = 2.5 ")).toEqual({ phase: "bootstrap", seconds: 2.5 });
    expect(parseDuration("1h2m3s")).toBe(3723);
    expect(parseDuration("500ms")).toBe(0.5);
    expect(parseDuration("90S")).toBe(90);
  });

  test("bad syntax: a one-line Error naming the value", () => {
    for (const bad of ["model_loading", "=90s", "model_loading=", "model_loading=abc", "model_loading=90x",
      "model_loading=30s1m", "model_loading=1m1m", "model_loading=-5", "model_loading=0", "model loading=5s",
      "model_loading=1.5.2m", "model_loading=m"]) {
      let err: Error | null = null;
      try {
        parseBudget(bad);
      } catch (e) {
        err = e as Error;
      }
      expect(err).toBeInstanceOf(Error);
      expect(err!.message).toContain(JSON.stringify(bad));
      expect(err!.message).not.toContain("\n");
    }
    expect(() => parseDuration("ten")).toThrow(/invalid duration "ten"/);
  });
});
