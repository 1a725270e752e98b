// Fitting: the reference coefficients (from the study's tables), the local
// refit from this machine's history, and importing past start-ups from a trace
// backend (Tempo HTTP API, or Jaeger's query API).
//
// Local calibration rule (refitFromHistory), per leaf phase:
//   * n >= max(MIN_RUNS_LSQ, 3 x (number of coefficients)) runs that carry
//     features, and the features actually vary between runs -> a fresh
//     non-negative least-squares fit of that phase's linear model;
//   * otherwise, with >= 1 observation -> a scale factor over the reference
//     model, s = sum(y * yhat) / sum(yhat^2) (least squares through the origin),
//     shrunk towards 1 with a prior weight of one run and clipped to [0.2, 5];
//   * a parent phase observed without its sub-steps (e.g. only "bootstrap")
//     scales each of its children by the parent's factor;
//   * runs imported from traces without features use the span's predicted
//     duration (vllm.startup.phase.predicted_duration_s) as yhat.

import {
  type Coefficients, type DesignInput, type LeafPhase, type LinearModel,
  DEFAULT_COEFFICIENTS, LEAF_PHASES, PARENT_SUMS, applyLinear, designRow, graphDesign,
} from "./model.ts";
import type { TrainingRow } from "./study-data.ts";
import type { HistoryRun } from "./history.ts";
import { ALL_PHASES } from "../phases/catalog.ts";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";

// ---------------------------------------------------------------- least squares

/** Solve (A^T A + ridge I) b = A^T y by Gaussian elimination with partial pivoting. */
export function lstsq(A: number[][], y: number[], ridge = 1e-9): number[] | null {
  const k = A[0]?.length ?? 0;
  if (k === 0) return [];
  const M = Array.from({ length: k }, () => new Array<number>(k + 1).fill(0));
  for (let r = 0; r < A.length; r++) {
    for (let i = 0; i < k; i++) {
      M[i][k] += A[r][i] * y[r];
      for (let j = 0; j < k; j++) M[i][j] += A[r][i] * A[r][j];
    }
  }
  for (let i = 0; i < k; i++) M[i][i] += ridge * (1 + Math.abs(M[i][i]));
  for (let c = 0; c < k; c++) {
    let p = c;
    for (let r = c + 1; r < k; r++) if (Math.abs(M[r][c]) > Math.abs(M[p][c])) p = r;
    if (Math.abs(M[p][c]) < 1e-12) return null;
    [M[c], M[p]] = [M[p], M[c]];
    for (let r = 0; r < k; r++) {
      if (r === c) continue;
      const f = M[r][c] / M[c][c];
      for (let j = c; j <= k; j++) M[r][j] -= f * M[c][j];
    }
  }
  return M.map((row, i) => row[k] / row[i]);
}

export interface FitSample { x: Record<string, number>; y: number; w?: number }

/**
 * Least squares of y on the named features (+ intercept), non-negative slopes
 * by elimination: a feature whose slope comes out negative is dropped (coef 0)
 * and the rest refitted. Intercept stays free unless `nonnegIntercept`.
 */
export function fitLinear(samples: FitSample[], features: string[], opts: { intercept?: boolean; nonnegIntercept?: boolean; signed?: string[] } = {}): LinearModel {
  const signed = new Set(opts.signed ?? []);
  const useIntercept = opts.intercept !== false;
  let active = features.filter((f) => samples.some((s) => (s.x[f] ?? 0) !== 0));
  const coef: Record<string, number> = Object.fromEntries(features.map((f) => [f, 0]));
  if (samples.length === 0) return { intercept: 0, coef };
  for (let iter = 0; iter <= features.length; iter++) {
    const A = samples.map((s) => {
      const w = Math.sqrt(s.w ?? 1);
      return [...(useIntercept ? [w] : []), ...active.map((f) => w * (s.x[f] ?? 0))];
    });
    const yy = samples.map((s) => Math.sqrt(s.w ?? 1) * s.y);
    const b = lstsq(A, yy);
    if (!b) {
      if (active.length === 0) break;
      active = active.slice(0, -1);
      continue;
    }
    const icpt = useIntercept ? b[0] : 0;
    const slopes = useIntercept ? b.slice(1) : b;
    const neg = slopes.map((v, i) => [v, i] as const).filter(([v, i]) => v < 0 && !signed.has(active[i])).sort((a, c) => a[0] - c[0]);
    if (neg.length > 0) {
      active = active.filter((_, i) => i !== neg[0][1]);
      continue;
    }
    if (opts.nonnegIntercept && icpt < 0 && useIntercept) {
      const m = fitLinear(samples, active, { intercept: false, signed: opts.signed });
      for (const f of active) coef[f] = m.coef[f];
      return { intercept: 0, coef: roundCoef(coef) };
    }
    for (const f of features) coef[f] = 0;
    active.forEach((f, i) => (coef[f] = slopes[i]));
    return { intercept: sig(icpt), coef: roundCoef(coef) };
  }
  const mean = samples.reduce((s, r) => s + r.y, 0) / samples.length;
  return { intercept: sig(mean), coef };
}

function sig(v: number): number { return Number(v.toPrecision(6)); }
function roundCoef(c: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(c).map(([k, v]) => [k, sig(v)]));
}

// ---------------------------------------------------------------- reference fit

/** Features each phase's model is fitted on (data; the design values come from model.ts designRow). */
export const PHASE_FEATURES: Record<LeafPhase, string[]> = {
  detect_platform: [],
  imports: [],
  model_info: [],
  worker_init: [],
  tokenizer_init: ["tokenizer_mb"],
  model_init: [],
  load_weights: ["weights_gib_disk", "weights_gib_cached"],
  dynamo_transform: ["graph_kb", "layers_hybrid"],
  graph_compile: ["graph_kb_warm", "graph_kb_cold", "cold", "layers_hybrid"],
  kv_cache_profiling: ["active_gib", "compile_cold", "compile_off"],
  cuda_graph_capture: ["sizes_x_layers", "sizes_x_gib", "sizes_eager", "sizes_x_moe_layers", "sizes_x_hybrid_layers"],
  server_start: [],
};

/** Features whose coefficient may be negative (adjustments relative to the base case). */
export const SIGNED_FEATURES = new Set(["compile_off", "compile_cold", "cold", "layers_gqa", "layers_moe", "layers_hybrid", "layers_plain_mlp", "sizes_x_moe_layers", "sizes_x_hybrid_layers"]);

export const GRAPH_KB_FEATURES = ["layers", "layers_gqa", "layers_moe", "layers_hybrid", "layers_plain_mlp"];

/** Phases fitted only on the main 17-model table (see study-data.ts). */
const MAIN_TABLE_ONLY = new Set<LeafPhase>(["detect_platform", "imports", "model_info", "worker_init", "tokenizer_init", "model_init"]);

/** No study data for engine-ready -> HTTP-ready: a small constant, documented as such. */
export const SERVER_START_CONSTANT_S = 1.0;

export interface ReferenceFitInput {
  rows: TrainingRow[];
  graphKb: { model: string; x: Partial<DesignInput>; kb: number }[];
  source?: string;
}

export function median(xs: number[]): number {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export function fitReference(input: ReferenceFitInput): Coefficients {
  const { rows, graphKb } = input;
  const main = rows.filter((r) => r.dataset === "fig_rest");
  const defaults: Record<string, number> = {
    layers: median(main.map((r) => r.x.layers ?? NaN)),
    weights_gib: median(main.map((r) => r.x.weights_gib ?? NaN)),
    tokenizer_mb: median(main.map((r) => r.x.tokenizer_mb ?? NaN)),
  };
  const coefs: Coefficients = {
    schema: "startup-tracer.coefficients/v1",
    calibration: "reference",
    source: input.source ?? "study-data (H100 NVL n1, vLLM 0.10.1.1)",
    graph_kb: { intercept: 0, coef: {} },
    phases: {},
    load_format_factor: { auto: 1, safetensors: 1, pt: 1, npcache: 1, fastsafetensors: 1, dummy: 0 },
    feature_defaults: defaults,
  };

  // 1. compiled-graph size from the architecture
  const kbSamples = graphKb.map((g) => ({ x: graphDesign(g.x, coefs), y: g.kb }));
  coefs.graph_kb = fitLinear(kbSamples, GRAPH_KB_FEATURES, { nonnegIntercept: true, signed: [...SIGNED_FEATURES] });

  // 2. load-format factors: mean ratio of load_weights to safetensors, same model (fig14)
  const fig14 = rows.filter((r) => r.dataset === "fig14" && r.y.load_weights !== undefined);
  const base = new Map(fig14.filter((r) => r.x.load_format === "safetensors").map((r) => [r.model, r.y.load_weights!]));
  const ratios: Record<string, number[]> = {};
  for (const r of fig14) {
    const b = base.get(r.model);
    if (!b || !r.x.load_format || r.x.load_format === "safetensors") continue;
    (ratios[r.x.load_format] ??= []).push(r.y.load_weights! / b);
  }
  for (const [fmt, rs] of Object.entries(ratios)) coefs.load_format_factor[fmt] = sig(rs.reduce((a, b) => a + b, 0) / rs.length);
  for (const r of rows) if (r.x.load_format === "safetensors") r.x.load_format = "auto";

  // 3. one linear model per leaf phase
  const diag: Record<string, unknown> = {};
  for (const phase of LEAF_PHASES) {
    if (phase === "server_start") {
      coefs.phases[phase] = { intercept: SERVER_START_CONSTANT_S, coef: {} };
      diag[phase] = { rows: 0, note: "no study data: constant" };
      continue;
    }
    const samples: FitSample[] = [];
    for (const r of MAIN_TABLE_ONLY.has(phase) ? main : rows) {
      const y = r.y[phase];
      if (y === undefined) continue;
      const x = designRow(r.x, coefs)[phase];
      if (!x) continue;
      samples.push({ x, y });
    }
    const m = fitLinear(samples, PHASE_FEATURES[phase], { signed: [...SIGNED_FEATURES] });
    coefs.phases[phase] = m;
    const res = samples.map((s) => applyLinear(m, s.x).value - s.y);
    diag[phase] = { rows: samples.length, rms_s: sig(Math.sqrt(res.reduce((a, b) => a + b * b, 0) / Math.max(1, res.length))) };
  }
  coefs.diagnostics = diag;
  return coefs;
}

// ---------------------------------------------------------------- local refit

export const MIN_RUNS_LSQ = 8;

export interface RefitReport {
  runs: number;
  per_phase: Record<string, { method: "lsq" | "scale" | "reference"; n: number; scale?: number }>;
}

function leafChildren(name: string): readonly LeafPhase[] | null {
  return PARENT_SUMS[name] ?? null;
}

/** Refit coefficients from local history (see the rule at the top of this file). Never throws. */
export function refitFromHistory(runs: HistoryRun[], reference: Coefficients = DEFAULT_COEFFICIENTS): { coefficients: Coefficients; report: RefitReport } {
  const out: Coefficients = structuredClone(reference);
  out.calibration = "local";
  out.source = `local history (${runs.length} runs) over ${reference.source}`;
  out.fitted_at = new Date().toISOString();
  out.scale = {};
  delete out.diagnostics;
  const report: RefitReport = { runs: runs.length, per_phase: {} };
  const refScale = reference.scale ?? {};

  // observations per leaf phase: (design x or null, y, yhat from the reference)
  type Obs = { x: Record<string, number> | null; y: number; yhat: number };
  const obs: Record<string, Obs[]> = {};
  const parentObs: Record<string, { y: number; yhat: number }[]> = {};
  for (const run of runs) {
    try {
      const rows = run.features ? designRow(run.features, reference) : null;
      for (const [name, y] of Object.entries(run.phases)) {
        if (!(typeof y === "number" && Number.isFinite(y) && y >= 0)) continue;
        const children = leafChildren(name);
        if (children) {
          let yhat = 0;
          let ok = false;
          if (rows) {
            for (const ch of children) {
              const x = rows[ch], m = reference.phases[ch];
              if (x && m) { yhat += applyLinear(m, x).value * (refScale[ch] ?? 1); ok = true; }
            }
          } else if (run.predicted?.[name] != null) { yhat = run.predicted[name]!; ok = true; }
          if (ok && yhat > 0) (parentObs[name] ??= []).push({ y, yhat });
          continue;
        }
        if (!(LEAF_PHASES as readonly string[]).includes(name)) continue;
        const leaf = name as LeafPhase;
        const x = rows?.[leaf] ?? null;
        const m = reference.phases[leaf];
        let yhat: number | null = null;
        if (x && m) yhat = applyLinear(m, x).value * (refScale[leaf] ?? 1);
        else if (run.predicted?.[leaf] != null) yhat = run.predicted[leaf]!;
        if (yhat === null || !(yhat > 0)) continue;
        (obs[leaf] ??= []).push({ x, y, yhat });
      }
    } catch {
      // a malformed run is skipped
    }
  }

  const scaleOf = (pairs: { y: number; yhat: number }[]): number => {
    // least squares through the origin with one pseudo-run at scale 1 (shrinkage)
    const prior = pairs.reduce((s, p) => s + p.yhat * p.yhat, 0) / Math.max(1, pairs.length);
    const num = pairs.reduce((s, p) => s + p.y * p.yhat, 0) + prior;
    const den = pairs.reduce((s, p) => s + p.yhat * p.yhat, 0) + prior;
    return Math.min(5, Math.max(0.2, num / den));
  };

  for (const phase of LEAF_PHASES) {
    const o = obs[phase] ?? [];
    const feats = PHASE_FEATURES[phase];
    const withX = o.filter((p) => p.x);
    const varying = feats.filter((f) => new Set(withX.map((p) => p.x![f] ?? 0)).size > 1);
    if (withX.length >= Math.max(MIN_RUNS_LSQ, 3 * (feats.length + 1)) && (feats.length === 0 || varying.length > 0)) {
      const m = fitLinear(withX.map((p) => ({ x: p.x!, y: p.y })), feats, { signed: [...SIGNED_FEATURES] });
      // keep reference slopes for features that did not vary locally
      for (const f of feats) if (!varying.includes(f)) m.coef[f] = reference.phases[phase]?.coef[f] ?? 0;
      if (feats.some((f) => !varying.includes(f)) && feats.length > 0) {
        // re-estimate intercept with the fixed slopes
        const resid = withX.map((p) => p.y - Object.entries(m.coef).reduce((s, [f, c]) => s + c * (p.x![f] ?? 0), 0));
        m.intercept = sig(resid.reduce((a, b) => a + b, 0) / resid.length);
      }
      out.phases[phase] = m;
      out.scale[phase] = 1;
      report.per_phase[phase] = { method: "lsq", n: withX.length };
    } else if (o.length > 0) {
      const s = sig(scaleOf(o) * (refScale[phase] ?? 1));
      out.scale[phase] = s;
      report.per_phase[phase] = { method: "scale", n: o.length, scale: s };
    }
  }
  for (const [parent, pairs] of Object.entries(parentObs)) {
    const children = PARENT_SUMS[parent];
    const s = scaleOf(pairs);
    for (const ch of children) {
      if (report.per_phase[ch]) continue; // the sub-step's own data wins
      const v = sig(s * (refScale[ch] ?? 1));
      out.scale[ch] = v;
      report.per_phase[ch] = { method: "scale", n: pairs.length, scale: v };
    }
  }
  for (const phase of LEAF_PHASES) {
    if (!report.per_phase[phase]) {
      report.per_phase[phase] = { method: "reference", n: 0 };
      if (refScale[phase] !== undefined) out.scale[phase] = refScale[phase];
    }
  }
  return { coefficients: out, report };
}

// ---------------------------------------------------------------- trace backends

export const DURATION_ATTR = "vllm.startup.phase.duration_s";
export const PREDICTED_ATTR = "vllm.startup.phase.predicted_duration_s";
const PHASE_SET = new Set<string>(ALL_PHASES as readonly string[]);

export interface ImportedTrace { trace_id: string; phases: Record<string, number>; predicted: Record<string, number>; engine_version: string | null; fleet_key?: string | null }

interface RawSpan { name: string; startNs: number | null; endNs: number | null; attrs: Record<string, unknown> }

function otlpAttrValue(v: any): unknown {
  if (!v || typeof v !== "object") return v;
  if ("stringValue" in v) return v.stringValue;
  if ("doubleValue" in v) return Number(v.doubleValue);
  if ("intValue" in v) return Number(v.intValue);
  if ("boolValue" in v) return v.boolValue;
  return undefined;
}

function toNum(v: unknown): number | null {
  const x = typeof v === "string" ? Number(v) : v;
  return typeof x === "number" && Number.isFinite(x) ? x : null;
}

function phasesFromSpans(traceId: string, spans: RawSpan[]): ImportedTrace | null {
  const phases: Record<string, number> = {};
  const predicted: Record<string, number> = {};
  let version: string | null = null;
  let fleetKey: string | null = null;
  for (const s of spans) {
    const fk = s.attrs["vllm.startup.fleet"];
    if (typeof fk === "string" && fk && !fleetKey) fleetKey = fk;
    const v = s.attrs["vllm.version"] ?? s.attrs["vllm.startup.engine_version"] ?? s.attrs["service.version"];
    if (typeof v === "string" && !version && /^\d/.test(v)) version = v;
    // span names: the canonical phase name, possibly prefixed ("vllm.startup.load_weights")
    const name = PHASE_SET.has(s.name) ? s.name : s.name.split(/[./ ]/).pop() ?? "";
    const attrPhase = s.attrs["vllm.startup.phase"] ?? s.attrs["vllm.startup.phase.name"];
    const phase = PHASE_SET.has(name) ? name : typeof attrPhase === "string" && PHASE_SET.has(attrPhase) ? attrPhase : null;
    if (!phase) continue;
    let d = toNum(s.attrs[DURATION_ATTR]);
    if (d === null && s.startNs !== null && s.endNs !== null && s.endNs >= s.startNs) d = (s.endNs - s.startNs) / 1e9;
    if (d !== null) phases[phase] = d;
    const p = toNum(s.attrs[PREDICTED_ATTR]);
    if (p !== null) predicted[phase] = p;
  }
  return Object.keys(phases).length ? { trace_id: traceId, phases, predicted, engine_version: version, fleet_key: fleetKey } : null;
}

/** Parse an OTLP-JSON trace as returned by Tempo's GET /api/traces/<id> (batches or resourceSpans). */
export function parseTempoTrace(traceId: string, body: any): ImportedTrace | null {
  const spans: RawSpan[] = [];
  const batches = body?.batches ?? body?.resourceSpans ?? body?.trace?.resourceSpans ?? [];
  for (const b of Array.isArray(batches) ? batches : []) {
    const resAttrs: Record<string, unknown> = {};
    for (const a of b?.resource?.attributes ?? []) resAttrs[a.key] = otlpAttrValue(a.value);
    for (const ss of b?.scopeSpans ?? b?.instrumentationLibrarySpans ?? []) {
      for (const sp of ss?.spans ?? []) {
        const attrs: Record<string, unknown> = { ...resAttrs };
        for (const a of sp?.attributes ?? []) attrs[a.key] = otlpAttrValue(a.value);
        spans.push({
          name: String(sp?.name ?? ""),
          startNs: toNum(sp?.startTimeUnixNano), endNs: toNum(sp?.endTimeUnixNano), attrs,
        });
      }
    }
  }
  return phasesFromSpans(traceId, spans);
}

/** Parse Jaeger query-API JSON ({data: [{traceID, spans: [{operationName, startTime(us), duration(us), tags}]}]}). */
export function parseJaegerTraces(body: any): ImportedTrace[] {
  const out: ImportedTrace[] = [];
  for (const t of Array.isArray(body?.data) ? body.data : []) {
    const procTags: Record<string, Record<string, unknown>> = {};
    for (const [pid, p] of Object.entries<any>(t?.processes ?? {})) {
      procTags[pid] = Object.fromEntries((p?.tags ?? []).map((x: any) => [x.key, x.value]));
    }
    const spans: RawSpan[] = (t?.spans ?? []).map((s: any) => {
      const attrs: Record<string, unknown> = { ...(procTags[s?.processID] ?? {}) };
      for (const tag of s?.tags ?? []) attrs[tag.key] = tag.value;
      const st = toNum(s?.startTime), du = toNum(s?.duration);
      return { name: String(s?.operationName ?? ""), startNs: st === null ? null : st * 1000, endNs: st === null || du === null ? null : (st + du) * 1000, attrs };
    });
    const r = phasesFromSpans(String(t?.traceID ?? ""), spans);
    if (r) out.push(r);
  }
  return out;
}

async function getJson(url: string, timeoutMs = 15000): Promise<any> {
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), headers: { accept: "application/json" } });
  if (!res.ok) throw new Error(`GET ${url}: HTTP ${res.status}`);
  return res.json();
}

/** Read past start-up traces from a Tempo-compatible HTTP API. */
export async function fromTempo(baseUrl: string, opts: { limit?: number; service?: string } = {}): Promise<ImportedTrace[]> {
  const base = baseUrl.replace(/\/+$/, "");
  const service = opts.service ?? "startup-tracer";
  const search = await getJson(`${base}/api/search?tags=${encodeURIComponent(`service.name=${service}`)}&limit=${opts.limit ?? 100}`);
  const ids: string[] = (search?.traces ?? []).map((t: any) => String(t?.traceID ?? t?.traceId ?? "")).filter(Boolean);
  const out: ImportedTrace[] = [];
  for (const id of ids) {
    try {
      const t = parseTempoTrace(id, await getJson(`${base}/api/traces/${encodeURIComponent(id)}`));
      if (t) out.push(t);
    } catch {
      // one unreadable trace does not stop the import
    }
  }
  return out;
}

/** Read past start-up traces from a Jaeger query API. */
export async function fromJaeger(baseUrl: string, opts: { limit?: number; service?: string } = {}): Promise<ImportedTrace[]> {
  const base = baseUrl.replace(/\/+$/, "");
  const service = opts.service ?? "startup-tracer";
  return parseJaegerTraces(await getJson(`${base}/api/traces?service=${encodeURIComponent(service)}&limit=${opts.limit ?? 100}&lookback=30d`));
}

/** Imported traces as history-like runs (no features: calibrated through their predicted durations). */
export function tracesAsRuns(traces: ImportedTrace[]): HistoryRun[] {
  return traces.map((t, i) => ({
    id: -1 - i, recorded_at: "", trace_id: t.trace_id, engine_version: t.engine_version, outcome: "ready",
    features: null, phases: t.phases, predicted: t.predicted, source: "trace",
  }));
}

// ---------------------------------------------------------------- active coefficients

/** The coefficients in use: the local refit in <stateDir>/coefficients.json when valid, else the shipped reference. Never throws. */
export function loadActiveCoefficients(stateDir: string | null): Coefficients {
  if (!stateDir) return DEFAULT_COEFFICIENTS;
  try {
    const p = join(stateDir, "coefficients.json");
    if (!existsSync(p)) return DEFAULT_COEFFICIENTS;
    const c = JSON.parse(readFileSync(p, "utf8"));
    if (c?.schema !== "startup-tracer.coefficients/v1" || typeof c.phases !== "object" || typeof c.graph_kb !== "object") {
      console.warn(`startup-tracer: ignoring ${p}: not startup-tracer.coefficients/v1`);
      return DEFAULT_COEFFICIENTS;
    }
    return c as Coefficients;
  } catch (e) {
    console.warn(`startup-tracer: ignoring local coefficients: ${(e as Error).message}`);
    return DEFAULT_COEFFICIENTS;
  }
}
