// Grafana dashboards as code for startup-tracer (@grafana/grafana-foundation-sdk).
//
//   bun dashboards/src/generate.ts            # writes dashboards/*.json (committed)
//   bun dashboards/src/generate.ts --out DIR  # writes into DIR instead (used by the test)
//
// Output (all deterministic, no timestamps):
//   startup-overview.json   time to ready per model/host, per-phase breakdown, slow phases, failures
//   startup-single.json     one start-up: waterfall (trace panel, $trace_id), predicted vs actual,
//                           CPU/GPU/IO bound-by table
//   startup-fleet.json      phase duration distributions by model, GPU type, vLLM version,
//                           compile-cache hit
//   traceql-queries.json    every TraceQL query used, with what it is expected to return, so the
//                           end-to-end suite can run an equivalent query against a real backend
//
// Span names and attributes come from docs/span-contract.md; phase names from
// src/phases/catalog.ts. Datasource uids match dashboards/provisioning/datasources.yaml.

import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import * as cog from "@grafana/grafana-foundation-sdk/cog";
import * as common from "@grafana/grafana-foundation-sdk/common";
import {
  CustomVariableBuilder,
  DashboardBuilder,
  DashboardLinkBuilder,
  DashboardLinkType,
  PanelBuilder,
  QueryVariableBuilder,
  RowBuilder,
  TextBoxVariableBuilder,
  VariableRefresh,
  VariableSort,
} from "@grafana/grafana-foundation-sdk/dashboard";
import { PanelBuilder as BarGaugePanelBuilder } from "@grafana/grafana-foundation-sdk/bargauge";
import { PanelBuilder as HeatmapPanelBuilder, YAxisConfigBuilder } from "@grafana/grafana-foundation-sdk/heatmap";
import { DataqueryBuilder as PromQueryBuilder, PromQueryFormat } from "@grafana/grafana-foundation-sdk/prometheus";
import { PanelBuilder as StatPanelBuilder } from "@grafana/grafana-foundation-sdk/stat";
import { PanelBuilder as TablePanelBuilder } from "@grafana/grafana-foundation-sdk/table";
import {
  DataqueryBuilder as TempoQueryBuilder,
  MetricsQueryType,
  SearchTableType,
} from "@grafana/grafana-foundation-sdk/tempo";
import { PanelBuilder as TimeseriesPanelBuilder } from "@grafana/grafana-foundation-sdk/timeseries";
import { ALL_PHASES, TOP_LEVEL_PHASES } from "../../src/phases/catalog.ts";

// ---------------------------------------------------------------------------------------------
// Shared constants

/** Datasource uids; provisioned by dashboards/provisioning/datasources.yaml. */
export const TEMPO_DS = { type: "tempo", uid: "tempo" } as const;
export const PROM_DS = { type: "prometheus", uid: "prometheus" } as const;

export const DASHBOARD_UIDS = {
  overview: "vllm-startup-overview",
  single: "vllm-startup-single",
  fleet: "vllm-startup-fleet",
} as const;

const TAGS = ["vllm", "vllm-startup", "startup-tracer"];

/** Root span name (span contract). */
const ROOT = "vllm.startup";
/** Regex of the top-level phase names (they are direct children of the root). */
const TOP_LEVEL_RE = TOP_LEVEL_PHASES.join("|");
/** Compile phases that carry vllm.startup.compile_cache.hit. */
const COMPILE_RE = "torch_compile|graph_compile";

/** Span-metrics labels: Tempo's metrics-generator sanitises the dimension names (dots → _). */
export const SPANMETRICS_LABELS = {
  model: "vllm_startup_model",
  version: "vllm_startup_engine_version",
  cacheHit: "vllm_startup_compile_cache_hit",
  gpu: "vllm_startup_gpu_model",
} as const;

// ---------------------------------------------------------------------------------------------
// Query registry: every TraceQL query a panel uses is recorded for traceql-queries.json.

export type TraceqlKind = "search" | "metrics" | "trace_by_id";

export interface TraceqlQueryRecord {
  dashboard: string; // file name, e.g. startup-overview.json
  dashboardUid: string;
  panel: string; // panel title
  panelId: number;
  refId: string;
  kind: TraceqlKind;
  /** The query exactly as in the dashboard (with Grafana $variables). */
  query: string;
  /** Dashboard variables the query uses. */
  variables: string[];
  /** The query with variables replaced by their default values ($trace_id is left in place). */
  example: string;
  /** What a backend holding startup-tracer traces should return. */
  expects: string;
}

const METRIC_FUNCS = [
  "rate", "count_over_time", "sum_over_time", "min_over_time", "max_over_time", "avg_over_time",
  "quantile_over_time", "histogram_over_time", "compare", "topk", "bottomk",
];

export function traceqlKind(query: string): TraceqlKind {
  if (/^\s*\$\{?trace_id\}?\s*$/.test(query)) return "trace_by_id";
  const re = new RegExp(`\\|\\s*(${METRIC_FUNCS.join("|")})\\s*\\(`);
  return re.test(query) ? "metrics" : "search";
}

function variablesIn(query: string): string[] {
  const names = new Set<string>();
  for (const m of query.matchAll(/\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/g)) {
    if (!m[1]!.startsWith("__")) names.add(m[1]!);
  }
  return [...names].sort();
}

function substitute(query: string, defaults: Record<string, string>): string {
  return query.replace(/\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/g, (whole, name: string) =>
    name in defaults ? defaults[name]! : whole,
  );
}

/** Per-dashboard state: panel ids, the TraceQL registry, variable defaults. */
class Ctx {
  private nextId = 1;
  readonly queries: TraceqlQueryRecord[] = [];
  constructor(
    readonly file: string,
    readonly uid: string,
    readonly defaults: Record<string, string>,
  ) {}

  id(): number {
    return this.nextId++;
  }

  /** A TraceQL target, recorded in the registry. */
  traceql(
    panel: { title: string; id: number },
    refId: string,
    query: string,
    expects: string,
    opts: { table?: SearchTableType; instant?: boolean; limit?: number; step?: string } = {},
  ): TempoQueryBuilder {
    const kind = traceqlKind(query);
    this.queries.push({
      dashboard: this.file,
      dashboardUid: this.uid,
      panel: panel.title,
      panelId: panel.id,
      refId,
      kind,
      query,
      variables: variablesIn(query),
      example: substitute(query, this.defaults),
      expects,
    });
    const q = new TempoQueryBuilder().datasource(TEMPO_DS).refId(refId).queryType("traceql").query(query);
    if (kind === "metrics") {
      q.metricsQueryType(opts.instant ? MetricsQueryType.Instant : MetricsQueryType.Range);
      if (opts.step) q.step(opts.step);
    } else if (kind === "search") {
      q.tableType(opts.table ?? SearchTableType.Traces).limit(opts.limit ?? 50).spss(opts.table === SearchTableType.Spans ? 50 : 10);
    }
    return q;
  }
}

function prom(refId: string, expr: string, legend: string, opts: { instant?: boolean; format?: PromQueryFormat } = {}) {
  const q = new PromQueryBuilder().datasource(PROM_DS).refId(refId).expr(expr).legendFormat(legend);
  if (opts.instant) q.instant();
  else q.range();
  if (opts.format) q.format(opts.format);
  return q;
}

function legend(placement = common.LegendPlacement.Bottom, asTable = false) {
  return new common.VizLegendOptionsBuilder()
    .showLegend(true)
    .displayMode(asTable ? common.LegendDisplayMode.Table : common.LegendDisplayMode.List)
    .placement(placement)
    .calcs(asTable ? ["max", "mean", "last"] : []);
}

function lastValue() {
  return new common.ReduceDataOptionsBuilder().calcs(["lastNotNull"]).values(false);
}

function dashboardLinks() {
  return new DashboardLinkBuilder("vLLM start-up")
    .type(DashboardLinkType.Dashboards)
    .tags(["vllm-startup"])
    .asDropdown(true)
    .includeVars(false)
    .keepTime(true)
    .targetBlank(false)
    .icon("external link")
    .tooltip("")
    .url("");
}

/** Data link from a Tempo search table's trace id column to the single start-up dashboard. */
function traceIdLinkOverride() {
  return [
    {
      id: "links",
      value: [
        {
          title: "Open this start-up",
          url: `/d/${DASHBOARD_UIDS.single}?var-trace_id=\${__value.raw}&\${__url_time_range}`,
        },
      ],
    },
  ];
}

function modelVariable(metric: string, label: string) {
  return new QueryVariableBuilder("model")
    .label("Model")
    .datasource(PROM_DS)
    .query({ query: `label_values(${metric}, ${label})`, refId: "PrometheusVariableQueryEditor-VariableQuery", qryType: 1 })
    .definition(`label_values(${metric}, ${label})`)
    .refresh(VariableRefresh.OnTimeRangeChanged)
    .sort(VariableSort.AlphabeticalAsc)
    .includeAll(true)
    .allValue(".*")
    .multi(false)
    .current({ text: "All", value: "$__all", selected: true });
}

// ---------------------------------------------------------------------------------------------
// startup-overview.json

function overview(): { dashboard: unknown; queries: TraceqlQueryRecord[] } {
  const file = "startup-overview.json";
  const ctx = new Ctx(file, DASHBOARD_UIDS.overview, { model: ".*" });
  const M = `span.vllm.startup.model =~ "$model"`;
  const d = new DashboardBuilder("vLLM start-up — overview")
    .uid(DASHBOARD_UIDS.overview)
    .description("Time to ready, where start-up time goes, slow phases and failed start-ups (startup-tracer).")
    .tags(TAGS)
    .editable()
    .refresh("1m")
    .time({ from: "now-7d", to: "now" })
    .timezone("browser")
    .link(dashboardLinks())
    .withVariable(modelVariable("vllm_startup_info", "model"));

  // --- Time to ready
  d.withRow(new RowBuilder("Time to ready").id(ctx.id()));
  {
    const p = { title: "Median time to ready", id: ctx.id() };
    d.withPanel(
      new StatPanelBuilder().id(p.id).title(p.title).datasource(TEMPO_DS).unit("s").decimals(1).height(5).span(6)
        .description("Median duration of root spans of start-ups that reached readiness, over the dashboard range.")
        .reduceOptions(lastValue())
        .withTarget(ctx.traceql(p, "A",
          `{ name = "${ROOT}" && span.vllm.startup.outcome = "ready" && ${M} } | quantile_over_time(duration, .5)`,
          "one series (per query step) with the median root-span duration of ready start-ups; a single ready start-up of 30 s gives ~30",
          { instant: true })),
    );
  }
  {
    const p = { title: "Failed start-ups", id: ctx.id() };
    d.withPanel(
      new StatPanelBuilder().id(p.id).title(p.title).datasource(PROM_DS).unit("short").decimals(0).height(5).span(6)
        .description("vllm_startup_failures_total increase over the dashboard range.")
        .reduceOptions(lastValue())
        .withTarget(prom("A", `sum(increase(vllm_startup_failures_total{model=~"$model"}[$__range]))`, "failures", { instant: true })),
    );
  }
  {
    const p = { title: "Slow phases", id: ctx.id() };
    d.withPanel(
      new StatPanelBuilder().id(p.id).title(p.title).datasource(PROM_DS).unit("short").decimals(0).height(5).span(6)
        .description("Phases that ran longer than their allowance (vllm_startup_slow_phases_total), over the dashboard range.")
        .reduceOptions(lastValue())
        .withTarget(prom("A", `sum(increase(vllm_startup_slow_phases_total{model=~"$model"}[$__range]))`, "slow phases", { instant: true })),
    );
  }
  {
    const p = { title: "Start-ups in progress", id: ctx.id() };
    d.withPanel(
      new StatPanelBuilder().id(p.id).title(p.title).datasource(PROM_DS).unit("short").decimals(0).height(5).span(6)
        .description("Tracers whose vLLM is not ready yet (vllm_startup_ready == 0).")
        .reduceOptions(lastValue())
        .withTarget(prom("A", `count(vllm_startup_ready == 0) or vector(0)`, "in progress", { instant: true })),
    );
  }
  {
    const p = { title: "Time to ready per model and host", id: ctx.id() };
    d.withPanel(
      new TimeseriesPanelBuilder().id(p.id).title(p.title).datasource(PROM_DS).unit("s").height(9).span(12)
        .description("vllm_startup_time_to_ready_seconds as scraped from each tracer's /metrics (instance = host/pod).")
        .legend(legend(common.LegendPlacement.Bottom, true))
        .showPoints(common.VisibilityMode.Always).pointSize(6)
        .withTarget(prom("A", `max by (model, instance) (vllm_startup_time_to_ready_seconds{model=~"$model"})`, "{{model}} on {{instance}}")),
    );
  }
  {
    const p = { title: "Time to ready per model and host (traces)", id: ctx.id() };
    d.withPanel(
      new TimeseriesPanelBuilder().id(p.id).title(p.title).datasource(TEMPO_DS).unit("s").height(9).span(12)
        .description("Root-span duration of ready start-ups, by model and host.name resource attribute.")
        .legend(legend(common.LegendPlacement.Bottom, true))
        .drawStyle(common.GraphDrawStyle.Points).pointSize(6)
        .withTarget(ctx.traceql(p, "A",
          `{ name = "${ROOT}" && span.vllm.startup.outcome = "ready" && ${M} } | max_over_time(duration) by (span.vllm.startup.model, resource.host.name)`,
          "one series per (model, host) with the root-span duration of ready start-ups in each step")),
    );
  }
  {
    const p = { title: "Recent start-ups", id: ctx.id() };
    d.withPanel(
      new TablePanelBuilder().id(p.id).title(p.title).datasource(TEMPO_DS).height(9).span(24)
        .description("Click a trace id to open the single start-up dashboard.")
        .overrideByName("traceID", traceIdLinkOverride())
        .withTarget(ctx.traceql(p, "A",
          `{ name = "${ROOT}" && ${M} } | select(span.vllm.startup.outcome, span.vllm.startup.ready_s, span.vllm.startup.engine.version, span.vllm.startup.gpu.model, resource.host.name)`,
          "one row per start-up trace (root span vllm.startup) with outcome, ready_s, engine version, GPU model and host")),
    );
  }

  // --- Phases
  d.withRow(new RowBuilder("Where the time goes").id(ctx.id()));
  {
    const p = { title: "Per-phase breakdown (latest start-up per model)", id: ctx.id() };
    d.withPanel(
      new BarGaugePanelBuilder().id(p.id).title(p.title).datasource(PROM_DS).unit("s").height(10).span(12)
        .description("Top-level phases of the most recent start-up (vllm_startup_phase_duration_seconds, parent=\"\").")
        .orientation(common.VizOrientation.Horizontal)
        .displayMode(common.BarGaugeDisplayMode.Basic)
        .reduceOptions(lastValue())
        .withTarget(prom("A", `max by (phase) (vllm_startup_phase_duration_seconds{model=~"$model", parent=""})`, "{{phase}}", { instant: true })),
    );
  }
  {
    const p = { title: "Per-phase breakdown over time (traces)", id: ctx.id() };
    d.withPanel(
      new TimeseriesPanelBuilder().id(p.id).title(p.title).datasource(TEMPO_DS).unit("s").height(10).span(12)
        .description("Average duration of each top-level phase per step, stacked: the bar height is the time the phases cover.")
        .legend(legend(common.LegendPlacement.Right))
        .drawStyle(common.GraphDrawStyle.Bars).fillOpacity(80)
        .stacking(new common.StackingConfigBuilder().mode(common.StackingMode.Normal))
        .withTarget(ctx.traceql(p, "A",
          `{ span.vllm.startup.phase =~ "${TOP_LEVEL_RE}" && ${M} } | avg_over_time(duration) by (span.vllm.startup.phase)`,
          "one series per top-level phase present in the range (e.g. bootstrap, model_loading, torch_compile) with its average duration")),
    );
  }
  {
    const p = { title: "Slowest phases", id: ctx.id() };
    d.withPanel(
      new BarGaugePanelBuilder().id(p.id).title(p.title).datasource(TEMPO_DS).unit("s").height(10).span(12)
        .description("Longest duration of each phase and sub-step over the dashboard range.")
        .orientation(common.VizOrientation.Horizontal)
        .displayMode(common.BarGaugeDisplayMode.Gradient)
        .reduceOptions(new common.ReduceDataOptionsBuilder().calcs(["max"]).values(false))
        .withTarget(ctx.traceql(p, "A",
          `{ span.vllm.startup.phase =~ ".+" && ${M} } | max_over_time(duration) by (span.vllm.startup.phase)`,
          "one series per phase/sub-step name with its maximum duration; the longest phase of the test start-up ranks first",
          { instant: true })),
    );
  }
  {
    const p = { title: "Phases that ran longer than their allowance", id: ctx.id() };
    d.withPanel(
      new TablePanelBuilder().id(p.id).title(p.title).datasource(TEMPO_DS).height(10).span(12)
        .description("Phase spans with vllm.startup.phase.slow = true.")
        .overrideByName("traceID", traceIdLinkOverride())
        .withTarget(ctx.traceql(p, "A",
          `{ span.vllm.startup.phase.slow = true && ${M} } | select(span.vllm.startup.phase, span.vllm.startup.phase.duration_s, span.vllm.startup.phase.allowance_s, span.vllm.startup.phase.predicted_duration_s, span.vllm.startup.phase.bound_by)`,
          "one span row per phase flagged slow, with duration, allowance, prediction and bound_by; empty when no phase was slow",
          { table: SearchTableType.Spans })),
    );
  }
  {
    const p = { title: "Slow phases over time", id: ctx.id() };
    d.withPanel(
      new TimeseriesPanelBuilder().id(p.id).title(p.title).datasource(PROM_DS).unit("short").height(8).span(24)
        .legend(legend())
        .drawStyle(common.GraphDrawStyle.Bars).fillOpacity(80)
        .withTarget(prom("A", `sum by (phase, model) (increase(vllm_startup_slow_phases_total{model=~"$model"}[$__rate_interval]))`, "{{phase}} ({{model}})")),
    );
  }

  // --- Failures
  d.withRow(new RowBuilder("Failed start-ups").id(ctx.id()));
  {
    const p = { title: "Failed start-ups (traces)", id: ctx.id() };
    d.withPanel(
      new TablePanelBuilder().id(p.id).title(p.title).datasource(TEMPO_DS).height(9).span(12)
        .overrideByName("traceID", traceIdLinkOverride())
        .withTarget(ctx.traceql(p, "A",
          `{ name = "${ROOT}" && (status = error || span.vllm.startup.outcome = "failed" || span.vllm.startup.outcome = "exited") && ${M} } | select(span.vllm.startup.outcome, span.vllm.startup.error, span.vllm.startup.engine.version, resource.host.name)`,
          "one row per start-up whose root span has status ERROR or outcome failed/exited, with the error line")),
    );
  }
  {
    const p = { title: "Failing phase", id: ctx.id() };
    d.withPanel(
      new TablePanelBuilder().id(p.id).title(p.title).datasource(TEMPO_DS).height(9).span(12)
        .description("The phase span that carries the error (status ERROR, message = the exception line).")
        .overrideByName("traceID", traceIdLinkOverride())
        .withTarget(ctx.traceql(p, "A",
          `{ span.vllm.startup.phase =~ ".+" && status = error && ${M} } | select(statusMessage, span.vllm.startup.phase.parent, span.vllm.startup.phase.duration_s)`,
          "one span row per failed phase (status ERROR) with its status message",
          { table: SearchTableType.Spans })),
    );
  }
  {
    const p = { title: "Failures by model", id: ctx.id() };
    d.withPanel(
      new TimeseriesPanelBuilder().id(p.id).title(p.title).datasource(PROM_DS).unit("short").height(8).span(12)
        .legend(legend())
        .drawStyle(common.GraphDrawStyle.Bars).fillOpacity(80)
        .withTarget(prom("A", `sum by (model) (increase(vllm_startup_failures_total{model=~"$model"}[$__rate_interval]))`, "{{model}}")),
    );
  }
  {
    const p = { title: "Failures by model (traces)", id: ctx.id() };
    d.withPanel(
      new TimeseriesPanelBuilder().id(p.id).title(p.title).datasource(TEMPO_DS).unit("short").height(8).span(12)
        .legend(legend())
        .drawStyle(common.GraphDrawStyle.Bars).fillOpacity(80)
        .withTarget(ctx.traceql(p, "A",
          `{ name = "${ROOT}" && status = error && ${M} } | count_over_time() by (span.vllm.startup.model)`,
          "one series per model with the number of failed start-ups (root status ERROR) per step")),
    );
  }

  return { dashboard: d.build(), queries: ctx.queries };
}

// ---------------------------------------------------------------------------------------------
// startup-single.json

function single(): { dashboard: unknown; queries: TraceqlQueryRecord[] } {
  const file = "startup-single.json";
  const ctx = new Ctx(file, DASHBOARD_UIDS.single, {});
  const T = `trace:id = "$trace_id"`;
  const d = new DashboardBuilder("vLLM start-up — single start-up")
    .uid(DASHBOARD_UIDS.single)
    .description("One start-up trace: waterfall, predicted vs actual per phase, CPU/GPU/IO attribution.")
    .tags(TAGS)
    .editable()
    .refresh("")
    .time({ from: "now-24h", to: "now" })
    .timezone("browser")
    .link(dashboardLinks())
    .withVariable(
      new TextBoxVariableBuilder("trace_id")
        .label("Trace id")
        .description("Trace id of one start-up (from the Recent start-ups table, the tracer's summary or its API)")
        .defaultValue(""),
    );

  {
    const p = { title: "Start-up", id: ctx.id() };
    d.withPanel(
      new TablePanelBuilder().id(p.id).title(p.title).datasource(TEMPO_DS).height(5).span(24)
        .description("The root span vllm.startup of this trace.")
        .withTarget(ctx.traceql(p, "A",
          `{ ${T} && name = "${ROOT}" } | select(span.vllm.startup.model, span.vllm.startup.engine.version, span.vllm.startup.outcome, span.vllm.startup.ready_s, span.vllm.startup.predicted_total_s, span.vllm.startup.unexplained_s, span.vllm.startup.mode, span.vllm.startup.gpu.model, span.vllm.startup.parallel.tensor_size, span.vllm.startup.error)`,
          "exactly one span row: the root span vllm.startup of the trace, with model, version, outcome, ready_s, predicted_total_s, unexplained_s",
          { table: SearchTableType.Spans, limit: 1 })),
    );
  }
  {
    const p = { title: "Waterfall", id: ctx.id() };
    d.withPanel(
      new PanelBuilder().type("traces").id(p.id).title(p.title).datasource(TEMPO_DS).height(16).span(24)
        .description("The whole start-up trace: phases are children of vllm.startup, sub-steps children of their phase.")
        .withTarget(ctx.traceql(p, "A", "$trace_id",
          "the full trace: root vllm.startup plus one span per phase and sub-step seen in the log")),
    );
  }
  {
    const p = { title: "Predicted vs actual per phase", id: ctx.id() };
    d.withPanel(
      new TablePanelBuilder().id(p.id).title(p.title).datasource(TEMPO_DS).height(10).span(24)
        .description("duration_s is what the tracer measured, printed_duration_s what vLLM printed, predicted_duration_s the prediction made when the phase began.")
        .withTarget(ctx.traceql(p, "A",
          `{ ${T} && span.vllm.startup.phase =~ ".+" } | select(span.vllm.startup.phase, span.vllm.startup.phase.parent, span.vllm.startup.phase.duration_s, span.vllm.startup.phase.predicted_duration_s, span.vllm.startup.phase.printed_duration_s, span.vllm.startup.phase.allowance_s, span.vllm.startup.phase.slow)`,
          "one span row per phase and sub-step of the trace, with measured, printed and predicted durations",
          { table: SearchTableType.Spans, limit: 1 })),
    );
  }
  {
    const p = { title: "CPU / GPU / IO attribution", id: ctx.id() };
    d.withPanel(
      new TablePanelBuilder().id(p.id).title(p.title).datasource(TEMPO_DS).height(10).span(24)
        .description("What bounded each phase (bound_by: CPU-single-core, CPU-parallel, IO, GPU, waiting) and the sizes it handled.")
        .withTarget(ctx.traceql(p, "A",
          `{ ${T} && span.vllm.startup.phase.bound_by != nil } | select(span.vllm.startup.phase, span.vllm.startup.phase.bound_by, span.vllm.startup.phase.duration_s, span.vllm.startup.phase.ranks, span.vllm.startup.weights.gib, span.vllm.startup.compile_cache.hit, span.vllm.startup.kv_cache.gib, span.vllm.startup.kv_cache.tokens, span.vllm.startup.cuda_graph.gib, span.vllm.startup.cuda_graph.sizes)`,
          "one span row per phase with a bound_by attribute, with weights/KV-cache/CUDA-graph sizes where set",
          { table: SearchTableType.Spans, limit: 1 })),
    );
  }
  {
    const p = { title: "Pick a start-up", id: ctx.id() };
    d.withPanel(
      new TablePanelBuilder().id(p.id).title(p.title).datasource(TEMPO_DS).height(8).span(24)
        .description("Recent start-ups; click a trace id to show it here.")
        .overrideByName("traceID", traceIdLinkOverride())
        .withTarget(ctx.traceql(p, "A",
          `{ name = "${ROOT}" } | select(span.vllm.startup.model, span.vllm.startup.outcome, span.vllm.startup.ready_s)`,
          "one row per start-up trace in the range with model, outcome and ready_s",
          { limit: 20 })),
    );
  }

  return { dashboard: d.build(), queries: ctx.queries };
}

// ---------------------------------------------------------------------------------------------
// startup-fleet.json

function fleet(): { dashboard: unknown; queries: TraceqlQueryRecord[] } {
  const file = "startup-fleet.json";
  const ctx = new Ctx(file, DASHBOARD_UIDS.fleet, { model: ".*", phase: ".+" });
  const L = SPANMETRICS_LABELS;
  const SEL = `span.vllm.startup.phase =~ "$phase" && span.vllm.startup.model =~ "$model"`;
  const PSEL = `span_name=~"$phase", ${L.model}=~"$model"`;
  const d = new DashboardBuilder("vLLM start-up — fleet")
    .uid(DASHBOARD_UIDS.fleet)
    .description("Phase duration distributions across the fleet by model, GPU type, vLLM version and compile-cache hit. Prometheus panels use Tempo span metrics (traces_spanmetrics_*); TraceQL panels use TraceQL metrics.")
    .tags(TAGS)
    .editable()
    .refresh("5m")
    .time({ from: "now-7d", to: "now" })
    .timezone("browser")
    .link(dashboardLinks())
    .withVariable(
      new CustomVariableBuilder("phase")
        .label("Phase")
        .values(ALL_PHASES.join(","))
        .includeAll(true)
        .allValue(".+")
        .multi(false)
        .current({ text: "All", value: "$__all", selected: true }),
    )
    .withVariable(modelVariable("traces_spanmetrics_calls_total", L.model));

  const quantiles = (by: string) =>
    `histogram_quantile(0.9, sum by (le, ${by}) (increase(traces_spanmetrics_latency_bucket{${PSEL}}[$__range])))`;

  d.withRow(new RowBuilder("Distribution").id(ctx.id()));
  {
    const p = { title: "Phase duration distribution ($phase)", id: ctx.id() };
    d.withPanel(
      new HeatmapPanelBuilder().id(p.id).title(p.title).datasource(PROM_DS).height(10).span(12)
        .description("Span-metrics latency buckets (tempo.yaml sets buckets from 0.1 s to 1800 s).")
        .calculate(false)
        .yAxis(new YAxisConfigBuilder().unit("s"))
        .showLegend()
        .withTarget(prom("A", `sum by (le) (increase(traces_spanmetrics_latency_bucket{${PSEL}}[$__interval]))`, "{{le}}", { format: PromQueryFormat.Heatmap })),
    );
  }
  {
    const p = { title: "p50 / p90 per phase", id: ctx.id() };
    d.withPanel(
      new TimeseriesPanelBuilder().id(p.id).title(p.title).datasource(TEMPO_DS).unit("s").height(10).span(12)
        .legend(legend(common.LegendPlacement.Right))
        .withTarget(ctx.traceql(p, "A",
          `{ ${SEL} } | quantile_over_time(duration, .5, .9) by (span.vllm.startup.phase)`,
          "two series (p50, p90) per phase name present in the range")),
    );
  }

  const breakdown = (row: string, promLabel: string, attr: string, what: string) => {
    d.withRow(new RowBuilder(row).id(ctx.id()));
    {
      const p = { title: `p90 phase duration by ${what} (span metrics)`, id: ctx.id() };
      d.withPanel(
        new BarGaugePanelBuilder().id(p.id).title(p.title).datasource(PROM_DS).unit("s").height(10).span(12)
          .orientation(common.VizOrientation.Horizontal)
          .displayMode(common.BarGaugeDisplayMode.Basic)
          .reduceOptions(lastValue())
          .withTarget(prom("A", quantiles(`span_name, ${promLabel}`), `{{span_name}} · {{${promLabel}}}`, { instant: true })),
      );
    }
    {
      const p = { title: `Phase duration by ${what} (traces)`, id: ctx.id() };
      d.withPanel(
        new TimeseriesPanelBuilder().id(p.id).title(p.title).datasource(TEMPO_DS).unit("s").height(10).span(12)
          .legend(legend(common.LegendPlacement.Right))
          .withTarget(ctx.traceql(p, "A",
            `{ ${SEL} } | quantile_over_time(duration, .5, .9) by (span.vllm.startup.phase, ${attr})`,
            `p50 and p90 series per (phase, ${what}); the test start-ups give one ${what} value`)),
      );
    }
  };
  breakdown("By model", L.model, "span.vllm.startup.model", "model");
  breakdown("By GPU type", L.gpu, "span.vllm.startup.gpu.model", "GPU type");
  breakdown("By vLLM version", L.version, "span.vllm.startup.engine.version", "vLLM version");

  d.withRow(new RowBuilder("Compile cache").id(ctx.id()));
  {
    const p = { title: "Compile-cache hit ratio", id: ctx.id() };
    d.withPanel(
      new StatPanelBuilder().id(p.id).title(p.title).datasource(PROM_DS).unit("percentunit").decimals(0).height(8).span(6)
        .reduceOptions(lastValue())
        .withTarget(prom("A",
          `sum(increase(traces_spanmetrics_calls_total{span_name="torch_compile", ${L.model}=~"$model", ${L.cacheHit}="true"}[$__range])) / sum(increase(traces_spanmetrics_calls_total{span_name="torch_compile", ${L.model}=~"$model"}[$__range]))`,
          "hit ratio", { instant: true })),
    );
  }
  {
    const p = { title: "Compile time by cache hit (span metrics)", id: ctx.id() };
    d.withPanel(
      new BarGaugePanelBuilder().id(p.id).title(p.title).datasource(PROM_DS).unit("s").height(8).span(9)
        .orientation(common.VizOrientation.Horizontal)
        .displayMode(common.BarGaugeDisplayMode.Basic)
        .reduceOptions(lastValue())
        .withTarget(prom("A",
          `histogram_quantile(0.5, sum by (le, span_name, ${L.cacheHit}) (increase(traces_spanmetrics_latency_bucket{span_name=~"${COMPILE_RE}", ${L.model}=~"$model"}[$__range])))`,
          `{{span_name}} hit={{${L.cacheHit}}}`, { instant: true })),
    );
  }
  {
    const p = { title: "Compile time by cache hit (traces)", id: ctx.id() };
    d.withPanel(
      new TimeseriesPanelBuilder().id(p.id).title(p.title).datasource(TEMPO_DS).unit("s").height(8).span(9)
        .legend(legend(common.LegendPlacement.Bottom))
        .withTarget(ctx.traceql(p, "A",
          `{ span.vllm.startup.phase =~ "${COMPILE_RE}" && span.vllm.startup.model =~ "$model" } | quantile_over_time(duration, .5, .9) by (span.vllm.startup.phase, span.vllm.startup.compile_cache.hit)`,
          "p50/p90 series per (torch_compile|graph_compile, cache hit true/false)")),
    );
  }

  return { dashboard: d.build(), queries: ctx.queries };
}

// ---------------------------------------------------------------------------------------------
// Output

/** All generated files: name → JSON value. */
export function generateAll(): Record<string, unknown> {
  const parts = {
    "startup-overview.json": overview(),
    "startup-single.json": single(),
    "startup-fleet.json": fleet(),
  };
  const out: Record<string, unknown> = {};
  const queries: TraceqlQueryRecord[] = [];
  for (const [name, part] of Object.entries(parts)) {
    out[name] = part.dashboard;
    queries.push(...part.queries);
  }
  out["traceql-queries.json"] = {
    description:
      "Every TraceQL query used by the startup-tracer dashboards. kind: search (spanset filter, optional select), metrics (TraceQL metrics), trace_by_id. example = query with dashboard variable defaults; $trace_id must be replaced by a real trace id.",
    datasource: TEMPO_DS,
    queries,
  };
  return out;
}

export function serialise(value: unknown): string {
  return JSON.stringify(value, null, 2) + "\n";
}

export function writeAll(outDir: string): string[] {
  mkdirSync(outDir, { recursive: true });
  const written: string[] = [];
  for (const [name, value] of Object.entries(generateAll())) {
    const path = join(outDir, name);
    writeFileSync(path, serialise(value));
    written.push(path);
  }
  return written;
}

// Silence "unused" for the type-only namespace import kept for readers of builder signatures.
export type _Builder<T> = cog.Builder<T>;

if (import.meta.main) {
  const args = process.argv.slice(2);
  let outDir = resolve(dirname(import.meta.dir)); // dashboards/
  for (let i = 0; i < args.length; i++) {
    if (args[i] === "--out" && args[i + 1]) outDir = resolve(args[++i]!);
    else if (args[i]!.startsWith("--out=")) outDir = resolve(args[i]!.slice(6));
    else {
      console.error(`usage: bun dashboards/src/generate.ts [--out DIR]`);
      process.exit(2);
    }
  }
  for (const p of writeAll(outDir)) console.log(`wrote ${p}`);
}
