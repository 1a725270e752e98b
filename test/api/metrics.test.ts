import { describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import {
  MetricsRegistry,
  escapeHelp,
  escapeLabelValue,
  formatValue,
  renderStartupMetrics,
  startupMetricsSource,
} from "../../src/api/metrics.ts";
import { makeSnapshot, phase } from "./fixture.ts";

function findPromtool(): string {
  const p = Bun.which("promtool") ?? (existsSync("/usr/bin/promtool") ? "/usr/bin/promtool" : null);
  if (!p) {
    throw new Error(
      "promtool not found on PATH: install Debian's prometheus package (apt-get install -y prometheus); .ci/run installs it",
    );
  }
  return p;
}

async function promtoolCheck(text: string): Promise<{ code: number; out: string }> {
  const proc = Bun.spawn([findPromtool(), "check", "metrics"], { stdin: "pipe", stdout: "pipe", stderr: "pipe" });
  proc.stdin.write(text);
  await proc.stdin.end();
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, out: out + err };
}

describe("registry", () => {
  test("escapes label values and help text per format 0.0.4", () => {
    expect(escapeLabelValue('a\\b"c\nd')).toBe('a\\\\b\\"c\\nd');
    expect(escapeHelp('x\\y\n"z"')).toBe('x\\\\y\\n"z"');
    expect(formatValue(NaN)).toBe("NaN");
    expect(formatValue(Infinity)).toBe("+Inf");
    expect(formatValue(-Infinity)).toBe("-Inf");
    expect(formatValue(1.5)).toBe("1.5");
  });

  test("HELP/TYPE lines, label rendering, inc and set", () => {
    const r = new MetricsRegistry();
    const g = r.gauge("t_gauge", "A gauge.", ["a", "b"]);
    const c = r.counter("t_events_total", "Events.", ["kind"]);
    g.set({ a: "x", b: 'q"uote' }, 2);
    g.set({ a: "x", b: 'q"uote' }, 3); // overwrite, same series
    c.inc({ kind: "k" });
    c.inc({ kind: "k" }, 2);
    expect(r.render()).toBe(
      "# HELP t_gauge A gauge.\n# TYPE t_gauge gauge\n" +
        't_gauge{a="x",b="q\\"uote"} 3\n' +
        "# HELP t_events_total Events.\n# TYPE t_events_total counter\n" +
        't_events_total{kind="k"} 3\n',
    );
  });

  test("rejects bad names, counters without _total, unknown labels, decreasing counters", () => {
    const r = new MetricsRegistry();
    expect(() => r.gauge("bad-name", "x")).toThrow(/invalid metric name/);
    expect(() => r.counter("events", "x")).toThrow(/_total/);
    expect(() => r.gauge("ok", "x", ["__reserved"])).toThrow(/invalid label/);
    const g = r.gauge("ok2", "x", ["a"]);
    expect(() => g.set({ zzz: "1" }, 1)).toThrow(/unknown label/);
    const c = r.counter("c_total", "x");
    expect(() => c.inc({}, -1)).toThrow(/cannot decrease/);
    r.gauge("dup", "x");
    expect(() => r.gauge("dup", "x")).toThrow(/twice/);
  });
});

describe("start-up metrics", () => {
  test("running start-up: finished phases only, predictions, eta, not ready", () => {
    const text = renderStartupMetrics(makeSnapshot());
    const m = 'model="Qwen/Qwen3-0.6B"';
    expect(text).toContain(`vllm_startup_phase_duration_seconds{phase="bootstrap",parent="",${m},status="ok"} 18.2\n`);
    expect(text).toContain(`vllm_startup_phase_duration_seconds{phase="imports",parent="bootstrap",${m},status="ok"} 9.8\n`);
    // Running phases have no duration sample yet.
    expect(text).not.toMatch(/vllm_startup_phase_duration_seconds\{phase="load_weights"/);
    expect(text).toContain(`vllm_startup_phase_predicted_seconds{phase="load_weights",${m}} 20\n`);
    expect(text).toContain(`vllm_startup_eta_seconds{${m}} 52.5\n`);
    expect(text).toContain("vllm_startup_elapsed_seconds 42.5\n");
    expect(text).toContain("vllm_startup_ready 0\n");
    expect(text).not.toMatch(/^vllm_startup_time_to_ready_seconds/m);
    expect(text).toContain(`vllm_startup_failures_total{${m}} 0\n`);
    expect(text).toContain(`vllm_startup_info{engine_version="0.11.0",${m},outcome="running"} 1\n`);
    for (const fam of [
      "vllm_startup_phase_duration_seconds gauge",
      "vllm_startup_phase_predicted_seconds gauge",
      "vllm_startup_time_to_ready_seconds gauge",
      "vllm_startup_eta_seconds gauge",
      "vllm_startup_elapsed_seconds gauge",
      "vllm_startup_ready gauge",
      "vllm_startup_slow_phases_total counter",
      "vllm_startup_failures_total counter",
      "vllm_startup_info gauge",
    ]) expect(text).toContain(`# TYPE ${fam}\n`);
  });

  test("ready start-up with slow phases, failures and awkward label values", () => {
    const snap = makeSnapshot({
      outcome: "ready",
      model: '/models/we"ird\\path\nname',
      engine_version: null,
      ready_s: 97.25,
      eta_s: 0,
      phases: [
        phase({ name: "model_loading", start_s: 0, duration_s: 60, status: "ok", predicted_s: 30 }),
        phase({ name: "load_weights", parent: "model_loading", start_s: 1, duration_s: 50, status: "ok", predicted_s: 20 }),
        phase({ name: "graph_compile", parent: "torch_compile", start_s: 61, duration_s: 3, status: "error", predicted_s: null }),
      ],
      slow: [
        { phase: "model_loading", allowance_s: 47, basis: "predicted", detected_at_s: 47, resolved: true },
        { phase: "load_weights", allowance_s: 32, basis: "predicted", detected_at_s: 33, resolved: true },
      ],
      failures: 1,
    });
    const text = renderStartupMetrics(snap, { slowPhases: { model_loading: 3 }, failures: 2 });
    const m = 'model="/models/we\\"ird\\\\path\\nname"';
    expect(text).toContain(`vllm_startup_time_to_ready_seconds{${m}} 97.25\n`);
    expect(text).toContain("vllm_startup_ready 1\n");
    expect(text).not.toMatch(/^vllm_startup_eta_seconds\{/m); // no ETA once ready
    expect(text).toContain(`vllm_startup_slow_phases_total{phase="model_loading",${m}} 3\n`);
    expect(text).toContain(`vllm_startup_slow_phases_total{phase="load_weights",${m}} 1\n`);
    expect(text).toContain(`vllm_startup_failures_total{${m}} 2\n`);
    expect(text).toContain(`vllm_startup_phase_duration_seconds{phase="graph_compile",parent="torch_compile",${m},status="error"} 3\n`);
    expect(text).toContain(`vllm_startup_info{engine_version="unknown",${m},outcome="ready"} 1\n`);
  });

  test("vllm_startup_phase_slow: 1 while a flagged phase runs, 0 once it ended, absent for phases never flagged", () => {
    const flag = (phase: string, resolved: boolean) => ({ phase, allowance_s: 5, basis: "budget" as const, detected_at_s: 5, resolved });
    const snap = makeSnapshot({
      model: "m",
      phases: [phase({ name: "model_loading", start_s: 0, duration_s: null, status: "running", predicted_s: 3 }),
        phase({ name: "bootstrap", start_s: 0, duration_s: 9, status: "ok", predicted_s: 3 })],
      // model_loading flagged by two processes, one of them done; bootstrap flagged and ended.
      slow: [flag("model_loading", true), flag("model_loading", false), flag("bootstrap", true)],
    });
    const text = renderStartupMetrics(snap);
    expect(text).toContain("# TYPE vllm_startup_phase_slow gauge\n");
    expect(text).toContain('vllm_startup_phase_slow{phase="model_loading",model="m"} 1\n');
    expect(text).toContain('vllm_startup_phase_slow{phase="bootstrap",model="m"} 0\n');
    expect(renderStartupMetrics(makeSnapshot({ model: "m" }))).not.toMatch(/^vllm_startup_phase_slow\{/m);
  });

  test("startupMetricsSource reads the live snapshot at each call", () => {
    let snap = makeSnapshot({ elapsed_s: 1 });
    const src = startupMetricsSource(() => snap);
    expect(src()).toContain("vllm_startup_elapsed_seconds 1\n");
    snap = makeSnapshot({ elapsed_s: 2 });
    expect(src()).toContain("vllm_startup_elapsed_seconds 2\n");
  });

  test("promtool check metrics accepts the output (running, ready, empty)", async () => {
    const cases = [
      renderStartupMetrics(makeSnapshot()),
      renderStartupMetrics(
        makeSnapshot({
          outcome: "ready", ready_s: 90, model: 'odd"model\\x\ny',
          slow: [{ phase: "load_weights", allowance_s: 32, basis: "budget", detected_at_s: 33, resolved: true }],
          failures: 1,
        }),
      ),
      renderStartupMetrics(makeSnapshot({ phases: [], model: null, engine_version: null, eta_s: null, predicted_total_s: null })),
    ];
    for (const text of cases) {
      const r = await promtoolCheck(text);
      expect(r.out).toBe("");
      expect(r.code).toBe(0);
    }
    // And promtool does catch problems (the check is real).
    const broken = await promtoolCheck("# TYPE foo counter\nfoo 1\n");
    expect(broken.out).toMatch(/_total/);
  });
});
