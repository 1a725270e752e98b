// A tiny Prometheus registry rendering the text exposition format 0.0.4, and the
// start-up metrics derived from the live snapshot.
//
// Format notes (https://prometheus.io/docs/instrumenting/exposition_formats/):
// - one `# HELP` and one `# TYPE` line per metric family, then its samples;
// - label values escape `\` as `\\`, `"` as `\"` and a newline as `\n`;
//   HELP text escapes `\` and newline only;
// - counters are named with the `_total` suffix (family name included, as
//   `promtool check metrics` expects);
// - numbers are Go-style floats: `NaN`, `+Inf`, `-Inf` for the special values.

import type { StartupSnapshot } from "../state/types.ts";

export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

export type MetricType = "gauge" | "counter";
export type Labels = Record<string, string>;

const METRIC_NAME_RE = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME_RE = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

export function escapeLabelValue(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

export function escapeHelp(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
}

export function formatValue(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "-Inf";
  return String(v);
}

/** One metric family: a name, help, type and samples keyed by label set. */
export class MetricFamily {
  private readonly samples = new Map<string, { labels: Labels; value: number }>();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: MetricType,
    readonly labelNames: readonly string[],
  ) {
    if (!METRIC_NAME_RE.test(name)) throw new Error(`invalid metric name ${JSON.stringify(name)}`);
    if (type === "counter" && !name.endsWith("_total")) {
      throw new Error(`counter ${name} must end in _total`);
    }
    for (const l of labelNames) {
      if (!LABEL_NAME_RE.test(l) || l.startsWith("__")) {
        throw new Error(`invalid label name ${JSON.stringify(l)} on ${name}`);
      }
    }
  }

  private key(labels: Labels): string {
    const extra = Object.keys(labels).filter((k) => !this.labelNames.includes(k));
    if (extra.length) throw new Error(`unknown label(s) ${extra.join(",")} on ${this.name}`);
    return JSON.stringify(this.labelNames.map((l) => labels[l] ?? ""));
  }

  /** Set a sample (gauges; counters fed from an external cumulative count). */
  set(labels: Labels, value: number): void {
    const k = this.key(labels);
    this.samples.set(k, { labels: { ...labels }, value });
  }

  /** Add to a sample (starts at 0). Counters may only go up. */
  inc(labels: Labels, by = 1): void {
    if (this.type === "counter" && by < 0) throw new Error(`counter ${this.name} cannot decrease`);
    const k = this.key(labels);
    const cur = this.samples.get(k);
    if (cur) cur.value += by;
    else this.samples.set(k, { labels: { ...labels }, value: by });
  }

  get size(): number {
    return this.samples.size;
  }

  render(): string {
    let out = `# HELP ${this.name} ${escapeHelp(this.help)}\n# TYPE ${this.name} ${this.type}\n`;
    for (const { labels, value } of this.samples.values()) {
      const parts = this.labelNames.map((l) => `${l}="${escapeLabelValue(labels[l] ?? "")}"`);
      out += `${this.name}${parts.length ? `{${parts.join(",")}}` : ""} ${formatValue(value)}\n`;
    }
    return out;
  }
}

export class MetricsRegistry {
  private readonly families = new Map<string, MetricFamily>();

  private add(name: string, help: string, type: MetricType, labelNames: readonly string[]): MetricFamily {
    if (this.families.has(name)) throw new Error(`metric ${name} registered twice`);
    const f = new MetricFamily(name, help, type, labelNames);
    this.families.set(name, f);
    return f;
  }

  gauge(name: string, help: string, labelNames: readonly string[] = []): MetricFamily {
    return this.add(name, help, "gauge", labelNames);
  }

  counter(name: string, help: string, labelNames: readonly string[] = []): MetricFamily {
    return this.add(name, help, "counter", labelNames);
  }

  /** The text exposition, families in registration order. Families are always
   * described (HELP/TYPE) even without samples, so scrapers see the schema. */
  render(): string {
    let out = "";
    for (const f of this.families.values()) out += f.render();
    return out;
  }
}

/** Cumulative counters kept by the daemon beyond what one snapshot shows
 * (e.g. across restarts of the child). Missing fields are derived from the snapshot. */
export interface StartupCounters {
  /** phase -> number of times it was flagged slow. */
  slowPhases?: Record<string, number>;
  failures?: number;
}

/** Label value used when the model or engine version is not (yet) known. */
export const UNKNOWN = "unknown";

/** Render every start-up metric for one snapshot. */
export function renderStartupMetrics(snap: StartupSnapshot, counters: StartupCounters = {}): string {
  const model = snap.model ?? UNKNOWN;
  const reg = new MetricsRegistry();

  const duration = reg.gauge(
    "vllm_startup_phase_duration_seconds",
    "Duration of each finished vLLM start-up phase, in seconds (parent is empty for top-level phases).",
    ["phase", "parent", "model", "status"],
  );
  const predicted = reg.gauge(
    "vllm_startup_phase_predicted_seconds",
    "Predicted duration of each vLLM start-up phase seen so far, in seconds.",
    ["phase", "model"],
  );
  const predictedTotal = reg.gauge(
    "vllm_startup_predicted_total_seconds",
    "Predicted time from start to readiness, in seconds.",
    ["model"],
  );
  const ttr = reg.gauge(
    "vllm_startup_time_to_ready_seconds",
    "Seconds from start to readiness (present once the server is ready).",
    ["model"],
  );
  const eta = reg.gauge(
    "vllm_startup_eta_seconds",
    "Estimated seconds until readiness (present while a prediction exists).",
    ["model"],
  );
  const elapsed = reg.gauge("vllm_startup_elapsed_seconds", "Seconds since the start-up began.");
  const ready = reg.gauge("vllm_startup_ready", "1 once the vLLM server is ready, else 0.");
  const slow = reg.counter(
    "vllm_startup_slow_phases_total",
    "Start-up phases that ran longer than their allowance.",
    ["phase", "model"],
  );
  // 1 while a phase runs past its allowance, 0 once it ended: an alerting rule on it fires
  // and resolves with the phase, as the tracer's own Alertmanager alert does.
  const slowNow = reg.gauge(
    "vllm_startup_phase_slow",
    "1 while the phase runs longer than its allowance, 0 once it has ended (phases flagged slow only).",
    ["phase", "model"],
  );
  const failures = reg.counter("vllm_startup_failures_total", "Failed vLLM start-ups.", ["model"]);
  const info = reg.gauge(
    "vllm_startup_info",
    "Information about the traced start-up (value is always 1).",
    ["engine_version", "model", "outcome"],
  );

  for (const p of snap.phases) {
    if (p.duration_s !== null && p.status !== "running") {
      // A phase seen more than once (e.g. repeated by several ranks) adds up.
      duration.inc({ phase: p.name, parent: p.parent ?? "", model, status: p.status }, p.duration_s);
    }
    if (p.predicted_s !== null) predicted.set({ phase: p.name, model }, p.predicted_s);
  }
  if (snap.predicted_total_s !== null) predictedTotal.set({ model }, snap.predicted_total_s);
  if (snap.ready_s !== null) ttr.set({ model }, snap.ready_s);
  if (snap.eta_s !== null && snap.outcome === "running") eta.set({ model }, snap.eta_s);
  elapsed.set({}, snap.elapsed_s);
  ready.set({}, snap.outcome === "ready" ? 1 : 0);

  const slowCounts: Record<string, number> = {};
  // Every phase seen so far starts at 0, so that increase() sees its first slow event.
  for (const p of snap.phases) slowCounts[p.name] = 0;
  for (const s of snap.slow) slowCounts[s.phase] = (slowCounts[s.phase] ?? 0) + 1;
  for (const [phase, n] of Object.entries(counters.slowPhases ?? {})) {
    slowCounts[phase] = Math.max(slowCounts[phase] ?? 0, n);
  }
  for (const [phase, n] of Object.entries(slowCounts)) slow.set({ phase, model }, n);
  // A phase flagged more than once (several processes) is slow while any of its flags is open.
  const open = new Map<string, boolean>();
  for (const s of snap.slow) open.set(s.phase, (open.get(s.phase) ?? false) || !s.resolved);
  for (const [phase, isOpen] of open) slowNow.set({ phase, model }, isOpen ? 1 : 0);
  failures.set({ model }, Math.max(snap.failures, counters.failures ?? 0));

  info.set({ engine_version: snap.engine_version ?? UNKNOWN, model, outcome: snap.outcome }, 1);
  // What the advice predicts each lever would save (README "Advice"), once the start-up has ended:
  // summed over a fleet, where the cold-start seconds are.
  if (snap.advice?.length) {
    const advice = reg.gauge(
      "vllm_startup_advice_saving_seconds",
      "Seconds a lever is predicted to take off this start-up (README Advice), present once it has ended.",
      ["lever", "phase", "model"],
    );
    for (const a of snap.advice) advice.set({ lever: a.lever, phase: a.phase, model }, a.saving_s);
  }
  return reg.render();
}

/** A `metrics` callback for startApiServer. */
export function startupMetricsSource(
  getSnapshot: () => StartupSnapshot,
  getCounters: () => StartupCounters = () => ({}),
): () => string {
  return () => renderStartupMetrics(getSnapshot(), getCounters());
}
