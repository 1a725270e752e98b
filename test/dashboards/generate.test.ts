// The committed dashboards are exactly what dashboards/src/generate.ts produces, every panel has a
// datasource, and every TraceQL query is plausible against docs/span-contract.md.

import { describe, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { ALL_PHASES } from "../../src/phases/catalog.ts";

const ROOT = resolve(import.meta.dir, "../..");
const DASH = join(ROOT, "dashboards");
const BUN = process.execPath;
const GENERATED = ["startup-overview.json", "startup-single.json", "startup-fleet.json", "traceql-queries.json"];
const DASHBOARDS = GENERATED.filter((f) => f !== "traceql-queries.json");

const readJson = (p: string) => JSON.parse(readFileSync(p, "utf8"));

/** Span attribute names from the contract table rows (`vllm.startup.…`, `process.…`). */
function contractAttributes(): Set<string> {
  const md = readFileSync(join(ROOT, "docs/span-contract.md"), "utf8");
  const names = new Set<string>();
  for (const line of md.split("\n")) {
    if (!line.startsWith("|")) continue;
    const first = line.split("|")[1] ?? "";
    const ticks = [...first.matchAll(/`([^`]+)`/g)].map((m) => m[1]!);
    let base = "";
    for (const t of ticks) {
      if (t.startsWith(".")) {
        // `vllm.startup.parallel.tensor_size`, `.pipeline_size` → sibling of the previous name
        names.add(base.slice(0, base.lastIndexOf(".")) + t);
      } else {
        names.add(t);
        base = t;
      }
    }
  }
  return names;
}

/** Resource attributes the dashboards may use (OTel semantic conventions, set by the SDK/env). */
const RESOURCE_ATTRIBUTES = new Set(["service.name", "host.name", "k8s.pod.name", "k8s.namespace.name", "k8s.node.name"]);
const INTRINSICS = new Set([
  "name", "status", "statusMessage", "duration", "kind", "rootName", "rootServiceName", "traceDuration",
  "trace:id", "trace:duration", "trace:rootName", "trace:rootService", "span:id", "span:name", "span:duration",
  "span:status", "span:statusMessage", "span:kind", "event:name", "nil", "true", "false", "error", "ok", "unset",
]);
const FUNCTIONS = new Set([
  "select", "by", "count", "avg", "min", "max", "sum", "coalesce",
  "rate", "count_over_time", "sum_over_time", "min_over_time", "max_over_time", "avg_over_time",
  "quantile_over_time", "histogram_over_time", "compare", "topk", "bottomk",
]);

export function traceqlProblems(query: string, contract: Set<string>): string[] {
  const problems: string[] = [];
  // Strings: remember them, then blank them out for the structural checks.
  const strings: string[] = [];
  let stripped = "";
  for (let i = 0; i < query.length; i++) {
    const ch = query[i]!;
    if (ch === '"') {
      let j = i + 1;
      let s = "";
      while (j < query.length && query[j] !== '"') {
        if (query[j] === "\\") j++;
        s += query[j] ?? "";
        j++;
      }
      if (j >= query.length) {
        problems.push("unterminated string");
        return problems;
      }
      strings.push(s);
      stripped += '""';
      i = j;
    } else stripped += ch;
  }
  // Balanced brackets.
  const pairs: Record<string, string> = { "}": "{", ")": "(", "]": "[" };
  const stack: string[] = [];
  for (const ch of stripped) {
    if (ch === "{" || ch === "(" || ch === "[") stack.push(ch);
    else if (ch in pairs) {
      if (stack.pop() !== pairs[ch]) problems.push(`unbalanced '${ch}'`);
    }
  }
  if (stack.length) problems.push(`unclosed '${stack.join("")}'`);
  // Starts with a spanset filter.
  if (!/^\s*\{/.test(stripped)) problems.push("does not start with a spanset filter '{'");
  // A pipeline stage after '|' must be a known function.
  for (const m of stripped.matchAll(/\|\s*([A-Za-z_]+)\s*\(/g)) {
    if (!FUNCTIONS.has(m[1]!)) problems.push(`unknown pipeline function ${m[1]}`);
  }
  for (const m of stripped.matchAll(/(?<!\|)\|(?!\|)\s*([^\s(|]+)/g)) {
    if (!FUNCTIONS.has(m[1]!)) problems.push(`pipeline stage '${m[1]}' is not a function call`);
  }
  // Identifiers: scoped attributes must be in the contract, unscoped ones intrinsic or functions.
  for (const m of stripped.matchAll(/[A-Za-z_][A-Za-z0-9_.:]*/g)) {
    const id = m[0];
    const before = stripped.slice(0, m.index);
    if (/\d$/.test(before) && /^(s|ms|m|h|ns|us)$/.test(id)) continue; // duration literal 30s
    if (/\.\d*$/.test(before)) continue; // .5, .9 in quantile_over_time
    if (id.startsWith("span.")) {
      if (!contract.has(id.slice(5))) problems.push(`span attribute not in the contract: ${id}`);
    } else if (id.startsWith("resource.")) {
      if (!RESOURCE_ATTRIBUTES.has(id.slice(9))) problems.push(`unknown resource attribute: ${id}`);
    } else if (!INTRINSICS.has(id) && !FUNCTIONS.has(id)) {
      problems.push(`unknown identifier: ${id}`);
    }
  }
  // String values compared with name / phase must be span names the tracer emits.
  const spanNames = new Set<string>(["vllm.startup", ...ALL_PHASES]);
  for (const m of query.matchAll(/(?:\bname|span\.vllm\.startup\.phase)\s*(=~|=|!=)\s*"([^"]*)"/g)) {
    const [, op, value] = m;
    if (value!.includes("$")) continue;
    if (op === "=~") {
      if (value === ".+" || value === ".*") continue;
      for (const alt of value!.split("|")) if (!spanNames.has(alt)) problems.push(`unknown span name in regex: ${alt}`);
    } else if (!spanNames.has(value!)) problems.push(`unknown span name: ${value}`);
  }
  void strings;
  return problems;
}

function panelsOf(dashboard: any): any[] {
  const out: any[] = [];
  for (const p of dashboard.panels ?? []) {
    out.push(p);
    for (const inner of p.panels ?? []) out.push(inner);
  }
  return out;
}

describe("dashboards", () => {
  test("committed JSON is exactly what generate.ts produces", async () => {
    const tmp = mkdtempSync(join(tmpdir(), "dash-gen-"));
    try {
      const proc = Bun.spawn([BUN, join(DASH, "src/generate.ts"), "--out", tmp], { cwd: ROOT, stdout: "pipe", stderr: "pipe" });
      const code = await proc.exited;
      expect(code, await new Response(proc.stderr).text()).toBe(0);
      expect(readdirSync(tmp).sort()).toEqual([...GENERATED].sort());
      for (const f of GENERATED) {
        const fresh = readFileSync(join(tmp, f), "utf8");
        let committed = "";
        try {
          committed = readFileSync(join(DASH, f), "utf8");
        } catch {
          throw new Error(`dashboards/${f} is not committed; run \`make dashboards\``);
        }
        if (fresh !== committed) throw new Error(`dashboards/${f} differs from the generator output; run \`make dashboards\``);
      }
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });

  test("three dashboards with unique uids, panel ids and the provisioned datasources", () => {
    const uids = new Set<string>();
    const provisioned = readFileSync(join(DASH, "provisioning/datasources.yaml"), "utf8");
    for (const f of DASHBOARDS) {
      const d = readJson(join(DASH, f));
      expect(typeof d.uid).toBe("string");
      expect(uids.has(d.uid)).toBe(false);
      uids.add(d.uid);
      expect(d.title).toBeTruthy();
      const ids = new Set<number>();
      for (const p of panelsOf(d)) {
        expect(typeof p.id).toBe("number");
        expect(ids.has(p.id), `${f}: duplicate panel id ${p.id}`).toBe(false);
        ids.add(p.id);
        expect(p.gridPos, `${f}: ${p.title} has no gridPos`).toBeTruthy();
        if (p.type === "row") continue;
        const ds = p.datasource;
        expect(ds, `${f}: panel "${p.title}" has no datasource`).toBeTruthy();
        expect(["tempo", "prometheus"]).toContain(ds.type);
        expect(provisioned).toContain(`uid: ${ds.uid}`);
        expect(p.targets?.length, `${f}: panel "${p.title}" has no query`).toBeGreaterThan(0);
        const refIds = new Set<string>();
        for (const t of p.targets) {
          expect(t.datasource, `${f}: "${p.title}" target without datasource`).toEqual(ds);
          expect(t.refId).toBeTruthy();
          expect(refIds.has(t.refId)).toBe(false);
          refIds.add(t.refId);
          if (ds.type === "tempo") expect(typeof t.query).toBe("string");
          if (ds.type === "prometheus") expect(typeof t.expr).toBe("string");
        }
      }
    }
  });

  test("single start-up dashboard: trace panel driven by $trace_id", () => {
    const d = readJson(join(DASH, "startup-single.json"));
    expect(d.templating.list.map((v: any) => v.name)).toContain("trace_id");
    const traces = panelsOf(d).filter((p) => p.type === "traces");
    expect(traces.length).toBe(1);
    expect(traces[0].datasource.type).toBe("tempo");
    expect(traces[0].targets[0].query).toBe("$trace_id");
  });

  test("every TraceQL query is listed in traceql-queries.json and is plausible", () => {
    const contract = contractAttributes();
    expect(contract.has("vllm.startup.model")).toBe(true);
    expect(contract.has("vllm.startup.parallel.pipeline_size")).toBe(true);
    const listed = readJson(join(DASH, "traceql-queries.json")).queries as any[];
    const inDashboards: string[] = [];
    for (const f of DASHBOARDS) {
      const d = readJson(join(DASH, f));
      const vars = new Set<string>((d.templating?.list ?? []).map((v: any) => v.name));
      for (const p of panelsOf(d)) {
        for (const t of p.targets ?? []) {
          if (t.datasource?.type !== "tempo") continue;
          inDashboards.push(`${f}|${p.id}|${t.refId}|${t.query}`);
          const entry = listed.find((q) => q.dashboard === f && q.panelId === p.id && q.refId === t.refId);
          expect(entry, `${f}: "${p.title}" missing from traceql-queries.json`).toBeTruthy();
          expect(entry.query).toBe(t.query);
          expect(entry.panel).toBe(p.title);
          expect(entry.expects.length).toBeGreaterThan(10);
          for (const v of entry.variables) expect(vars.has(v), `${f}: query uses undefined $${v}`).toBe(true);
          if (entry.kind === "trace_by_id") {
            expect(p.type).toBe("traces");
            continue;
          }
          for (const q of [entry.query, entry.example]) {
            expect(traceqlProblems(q, contract), `${f} "${p.title}": ${q}`).toEqual([]);
          }
          // Metrics queries go to time-series-like panels, searches to tables.
          if (entry.kind === "metrics") expect(["timeseries", "stat", "bargauge"]).toContain(p.type);
          else expect(p.type).toBe("table");
        }
      }
    }
    expect(listed.map((q) => `${q.dashboard}|${q.panelId}|${q.refId}|${q.query}`).sort()).toEqual(inDashboards.sort());
    expect(listed.length).toBeGreaterThanOrEqual(15);
  });

  test("the plausibility check rejects broken queries", () => {
    const c = contractAttributes();
    expect(traceqlProblems(`{ name = "vllm.startup" `, c)).toContain("unclosed '{'");
    expect(traceqlProblems(`{ span.vllm.startup.modle = "x" }`, c)).toContain("span attribute not in the contract: span.vllm.startup.modle");
    expect(traceqlProblems(`{ name = "model_laoding" }`, c)).toContain("unknown span name: model_laoding");
    expect(traceqlProblems(`{ } | quantile(duration, .5)`, c)).toContain("unknown pipeline function quantile");
    expect(traceqlProblems(`{ name = "x }`, c)).toContain("unterminated string");
    expect(traceqlProblems(`{ duration > 30s } | quantile_over_time(duration, .5, .9) by (span.vllm.startup.phase)`, c)).toEqual([]);
  });

  test("Prometheus queries only use metrics the tracer or Tempo span metrics export", () => {
    const known = new Set([
      "vllm_startup_phase_duration_seconds", "vllm_startup_phase_predicted_seconds", "vllm_startup_time_to_ready_seconds",
      "vllm_startup_eta_seconds", "vllm_startup_elapsed_seconds", "vllm_startup_ready", "vllm_startup_slow_phases_total",
      "vllm_startup_failures_total", "vllm_startup_info",
      "traces_spanmetrics_latency_bucket", "traces_spanmetrics_calls_total",
    ]);
    // Span-metrics labels (dimensions in dashboards/tempo/tempo.yaml, sanitised by Tempo).
    const labels = new Set(["vllm_startup_model", "vllm_startup_engine_version", "vllm_startup_compile_cache_hit", "vllm_startup_gpu_model"]);
    for (const f of DASHBOARDS) {
      const d = readJson(join(DASH, f));
      const exprs: string[] = [];
      for (const p of panelsOf(d)) for (const t of p.targets ?? []) if (t.expr) exprs.push(t.expr);
      for (const v of d.templating?.list ?? []) if (v.definition) exprs.push(v.definition);
      for (const e of exprs) {
        for (const m of e.matchAll(/\b(vllm_startup_[a-z_]+|traces_spanmetrics_[a-z_]+)/g)) {
          if (labels.has(m[1]!)) continue;
          expect(known.has(m[1]!), `${f}: unknown metric ${m[1]} in ${e}`).toBe(true);
        }
        let depth = 0;
        for (const ch of e.replace(/"[^"]*"/g, "")) {
          if ("({[".includes(ch)) depth++;
          if (")}]".includes(ch)) depth--;
          expect(depth).toBeGreaterThanOrEqual(0);
        }
        expect(depth, e).toBe(0);
      }
    }
  });
});
