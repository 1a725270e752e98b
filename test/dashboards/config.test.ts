// Structure of the Tempo config, Grafana provisioning files and alert rules under dashboards/.
// promtool (Debian package `prometheus`) must be on PATH: `apt-get install -y prometheus`.

import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parse, parseAllDocuments } from "yaml";
import { DASHBOARD_UIDS, PROM_DS, SPANMETRICS_LABELS, TEMPO_DS } from "../../dashboards/src/generate.ts";

const ROOT = resolve(import.meta.dir, "../..");
const DASH = join(ROOT, "dashboards");

function loadYaml(rel: string): any {
  const text = readFileSync(join(DASH, rel), "utf8");
  const docs = parseAllDocuments(text);
  expect(docs.length, `${rel}: one YAML document`).toBe(1);
  expect(docs[0]!.errors, `${rel}: YAML errors`).toEqual([]);
  return parse(text);
}

const sanitise = (attr: string) => attr.replace(/[^A-Za-z0-9_]/g, "_");

describe("tempo.yaml", () => {
  const cfg = loadYaml("tempo/tempo.yaml");

  test("single binary with local storage and an OTLP HTTP receiver", () => {
    expect(cfg.target === undefined || cfg.target === "all").toBe(true);
    expect(cfg.server.http_listen_port).toBe(3200);
    expect(cfg.storage.trace.backend).toBe("local");
    expect(typeof cfg.storage.trace.local.path).toBe("string");
    expect(typeof cfg.storage.trace.wal.path).toBe("string");
    expect(cfg.distributor.receivers.otlp.protocols.http.endpoint).toMatch(/:4318$/);
    expect(cfg.stream_over_http_enabled).toBe(true);
  });

  test("span metrics: buckets for start-up phases, contract dimensions, remote write", () => {
    const sm = cfg.metrics_generator.processor.span_metrics;
    const b: number[] = sm.histogram_buckets;
    expect(b.every((x) => typeof x === "number" && x > 0)).toBe(true);
    expect([...b].sort((x, y) => x - y)).toEqual(b); // ascending
    expect(new Set(b).size).toBe(b.length);
    expect(b[0]).toBeLessThanOrEqual(0.1);
    expect(b[b.length - 1]).toBeGreaterThanOrEqual(600); // Tempo's default stops at 16.384 s
    expect(b.filter((x) => x > 16.384 && x <= 600).length).toBeGreaterThanOrEqual(6);
    for (const d of ["vllm.startup.model", "vllm.startup.engine.version", "vllm.startup.compile_cache.hit"]) {
      expect(sm.dimensions).toContain(d);
    }
    // Every span-metrics label the dashboards query is a configured dimension.
    const labels = new Set((sm.dimensions as string[]).map(sanitise));
    for (const l of Object.values(SPANMETRICS_LABELS)) expect(labels.has(l), `dimension for ${l}`).toBe(true);
    const rw = cfg.metrics_generator.storage.remote_write;
    expect(Array.isArray(rw) && rw.length).toBeTruthy();
    expect(rw[0].url).toMatch(/^https?:\/\/.+\/api\/v1\/write$/);
    expect(cfg.overrides.defaults.metrics_generator.processors).toContain("span-metrics");
  });

  test("TraceQL metrics enabled (local-blocks, internal spans kept, 7-day range)", () => {
    expect(cfg.overrides.defaults.metrics_generator.processors).toContain("local-blocks");
    expect(cfg.metrics_generator.processor.local_blocks.filter_server_spans).toBe(false);
    expect(typeof cfg.metrics_generator.traces_storage.path).toBe("string");
    expect(cfg.query_frontend.metrics.max_duration).toBe("168h");
  });
});

describe("Grafana provisioning", () => {
  test("datasources.yaml provides the Tempo and Prometheus uids the dashboards use", () => {
    const cfg = loadYaml("provisioning/datasources.yaml");
    expect(cfg.apiVersion).toBe(1);
    const byUid = new Map<string, any>((cfg.datasources as any[]).map((d) => [d.uid, d]));
    for (const ds of [TEMPO_DS, PROM_DS]) {
      const d = byUid.get(ds.uid);
      expect(d, `datasource ${ds.uid}`).toBeTruthy();
      expect(d.type).toBe(ds.type);
      expect(d.access).toBe("proxy");
      expect(d.url).toMatch(/^https?:\/\//);
      expect(d.name).toBeTruthy();
    }
    expect(byUid.get(TEMPO_DS.uid).url).toMatch(/:3200$/);
    // Cross-links point at provisioned datasources.
    const tempo = byUid.get(TEMPO_DS.uid).jsonData;
    expect(byUid.has(tempo.serviceMap.datasourceUid)).toBe(true);
    expect(byUid.has(tempo.tracesToMetrics.datasourceUid)).toBe(true);
    for (const e of byUid.get(PROM_DS.uid).jsonData.exemplarTraceIdDestinations) expect(byUid.has(e.datasourceUid)).toBe(true);
    expect((cfg.datasources as any[]).filter((d) => d.isDefault).length).toBeLessThanOrEqual(1);
  });

  test("dashboards.yaml is a file provider", () => {
    const cfg = loadYaml("provisioning/dashboards.yaml");
    expect(cfg.apiVersion).toBe(1);
    expect(cfg.providers.length).toBeGreaterThan(0);
    for (const p of cfg.providers) {
      expect(p.name).toBeTruthy();
      expect(p.type).toBe("file");
      expect(p.orgId).toBe(1);
      expect(typeof p.options.path).toBe("string");
      expect(p.options.path.startsWith("/")).toBe(true);
    }
  });
});

describe("alerts", () => {
  const ALERTS = ["VllmStartupSlowPhase", "VllmStartupFailed", "VllmStartupTimeToReadyOverBudget"];

  test("promtool check rules prometheus-rules.yaml", async () => {
    const promtool = Bun.which("promtool");
    if (!promtool) {
      throw new Error("promtool not found on PATH: install Debian's prometheus package (apt-get update && apt-get install -y prometheus)");
    }
    const proc = Bun.spawn([promtool, "check", "rules", join(DASH, "alerts/prometheus-rules.yaml")], { stdout: "pipe", stderr: "pipe" });
    const [code, out, err] = await Promise.all([proc.exited, new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
    expect(code, out + err).toBe(0);
    expect(out).toContain(`SUCCESS: ${ALERTS.length} rules found`);
  });

  test("Prometheus rules: the three alerts on the tracer's metrics", () => {
    const cfg = loadYaml("alerts/prometheus-rules.yaml");
    const rules = (cfg.groups as any[]).flatMap((g) => g.rules);
    expect(rules.map((r) => r.alert)).toEqual(ALERTS);
    const expr = (name: string) => rules.find((r) => r.alert === name).expr as string;
    // Fires while the phase is slow and resolves with it (test/e2e/alerting.test.ts evaluates it in Prometheus).
    expect(expr("VllmStartupSlowPhase")).toContain("vllm_startup_phase_slow");
    expect(expr("VllmStartupFailed")).toContain("increase(vllm_startup_failures_total");
    expect(expr("VllmStartupTimeToReadyOverBudget")).toContain("vllm_startup_time_to_ready_seconds");
    for (const r of rules) {
      expect(["warning", "critical"]).toContain(r.labels.severity);
      expect(r.annotations.summary).toBeTruthy();
    }
  });

  test("Grafana alert rules: provisioning format, same alerts and expressions", () => {
    const cfg = loadYaml("alerts/grafana-alert-rules.yaml");
    const prom = loadYaml("alerts/prometheus-rules.yaml");
    const promRules = new Map<string, any>((prom.groups as any[]).flatMap((g) => g.rules).map((r: any) => [r.alert, r]));
    expect(cfg.apiVersion).toBe(1);
    expect(cfg.groups.length).toBeGreaterThan(0);
    const titles: string[] = [];
    const uids = new Set<string>();
    for (const g of cfg.groups) {
      expect(g.orgId).toBe(1);
      expect(g.name).toBeTruthy();
      expect(g.folder).toBeTruthy();
      expect(g.interval).toMatch(/^\d+[smh]$/);
      for (const r of g.rules) {
        titles.push(r.title);
        expect(r.uid).toMatch(/^[A-Za-z0-9_-]{1,40}$/);
        expect(uids.has(r.uid)).toBe(false);
        uids.add(r.uid);
        expect(["NoData", "Alerting", "OK"]).toContain(r.noDataState);
        expect(["Error", "Alerting", "OK"]).toContain(r.execErrState);
        expect(r.for).toMatch(/^\d+[smh]$/);
        expect(Object.values(DASHBOARD_UIDS)).toContain(r.dashboardUid);
        const refIds = (r.data as any[]).map((d) => d.refId);
        expect(new Set(refIds).size).toBe(refIds.length);
        expect(refIds).toContain(r.condition);
        for (const d of r.data) {
          expect(d.model.refId).toBe(d.refId);
          if (d.datasourceUid === "__expr__") {
            expect(["reduce", "threshold", "math", "classic_conditions", "resample"]).toContain(d.model.type);
            expect(refIds).toContain(d.model.expression);
          } else {
            expect(d.datasourceUid).toBe(PROM_DS.uid);
            expect(d.model.datasource).toEqual({ type: PROM_DS.type, uid: PROM_DS.uid });
            expect(d.relativeTimeRange.from).toBeGreaterThan(0);
            // Same PromQL as the Prometheus rule of the same name.
            expect(d.model.expr.trim()).toBe(promRules.get(r.title).expr.trim());
          }
        }
        expect(r.labels.severity).toBe(promRules.get(r.title).labels.severity);
        expect(r.annotations.summary).toBeTruthy();
      }
    }
    expect(titles).toEqual(ALERTS);
  });
});
