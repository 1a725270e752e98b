// What `startup-tracer advise` reads: a summary JSON (startup-tracer.summary/v1),
// an OTLP/JSON trace file as the tracer writes it under <state>/traces/, or a
// vLLM log (imported as `import` does). Each becomes a StartupRecord plus the
// context the advice can use. Bad input is one clear error.
import { readFileSync } from "node:fs";
import type { Attributes, AttrValue, PhaseRecord } from "../state/types.ts";
import type { AdviceContext, StartupRecord } from "./facts.ts";

export class AdviceInputError extends Error {}

export interface LoadedStartup {
  kind: "summary" | "trace" | "log";
  record: StartupRecord;
  context: AdviceContext;
}

/** One OTLP/JSON AnyValue to a plain value. */
function anyValue(v: any): AttrValue | undefined {
  if (!v || typeof v !== "object") return undefined;
  if ("stringValue" in v) return String(v.stringValue);
  if ("boolValue" in v) return !!v.boolValue;
  if ("intValue" in v) return Number(v.intValue);
  if ("doubleValue" in v) return Number(v.doubleValue);
  if ("arrayValue" in v) {
    const vals = (v.arrayValue?.values ?? []).map(anyValue).filter((x: unknown) => x !== undefined);
    return vals as AttrValue;
  }
  return undefined;
}

function attrs(list: any): Attributes {
  const out: Attributes = {};
  for (const kv of Array.isArray(list) ? list : []) {
    const v = anyValue(kv?.value);
    if (typeof kv?.key === "string" && v !== undefined) out[kv.key] = v;
  }
  return out;
}

const nanos = (x: unknown) => Number(BigInt(String(x ?? "0"))) / 1e6; // ms

/** A start-up rebuilt from its OTLP/JSON trace (root span `vllm.startup`, one span per phase). */
export function recordFromTrace(body: any): { record: StartupRecord; run: Attributes } {
  const spans: any[] = [];
  for (const rs of body?.resourceSpans ?? []) for (const ss of rs?.scopeSpans ?? []) spans.push(...(ss?.spans ?? []));
  const root = spans.find((s) => s?.name === "vllm.startup");
  if (!root) throw new AdviceInputError("no vllm.startup root span in this trace");
  const run = attrs(root.attributes);
  const t0 = nanos(root.startTimeUnixNano);
  const phases: PhaseRecord[] = [];
  for (const s of spans) {
    if (s === root) continue;
    const a = attrs(s.attributes);
    const name = typeof a["vllm.startup.phase"] === "string" ? (a["vllm.startup.phase"] as string) : null;
    if (!name) continue;
    const start = nanos(s.startTimeUnixNano);
    const dur = typeof a["vllm.startup.phase.duration_s"] === "number" ? (a["vllm.startup.phase.duration_s"] as number) : (nanos(s.endTimeUnixNano) - start) / 1000;
    const status = s.status?.code === 2 ? "error" : a["vllm.startup.phase.incomplete"] === true ? "running" : "ok";
    phases.push({
      name, parent: typeof a["vllm.startup.phase.parent"] === "string" ? (a["vllm.startup.phase.parent"] as string) : null,
      start_s: (start - t0) / 1000, duration_s: dur, status,
      predicted_s: typeof a["vllm.startup.phase.predicted_duration_s"] === "number" ? (a["vllm.startup.phase.predicted_duration_s"] as number) : null,
      ...(status === "error" && s.status?.message ? { error: String(s.status.message) } : {}),
      attributes: a,
    });
  }
  phases.sort((x, y) => x.start_s - y.start_s);
  const str = (k: string) => (typeof run[k] === "string" ? (run[k] as string) : null);
  return {
    run,
    record: {
      outcome: str("vllm.startup.outcome") ?? "incomplete",
      engine_version: str("vllm.startup.engine.version"),
      model: str("vllm.startup.model"),
      total_s: (nanos(root.endTimeUnixNano) - t0) / 1000,
      ready_s: typeof run["vllm.startup.ready_s"] === "number" ? (run["vllm.startup.ready_s"] as number) : null,
      ...(str("vllm.startup.error") ? { error: str("vllm.startup.error")! } : {}),
      phases,
    },
  };
}

function isSummary(j: any): boolean {
  return j && typeof j === "object" && j.schema === "startup-tracer.summary/v1" && Array.isArray(j.phases);
}

/** Reads a summary JSON, a trace file or a vLLM log. Throws AdviceInputError with a one-line reason. */
export async function loadStartup(path: string, opts: { year?: number; stateDir?: string } = {}): Promise<LoadedStartup> {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new AdviceInputError(`cannot read '${path}': ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  const trimmed = text.trimStart();
  if (trimmed.startsWith("{")) {
    let j: any;
    try {
      j = JSON.parse(text);
    } catch (e) {
      throw new AdviceInputError(`'${path}' is not valid JSON: ${(e as Error).message.split("\n")[0]}`);
    }
    if (isSummary(j)) return { kind: "summary", record: j as StartupRecord, context: {} };
    if (Array.isArray(j?.resourceSpans)) {
      const { record, run } = recordFromTrace(j);
      return { kind: "trace", record, context: { run } };
    }
    throw new AdviceInputError(`'${path}' is JSON but neither a startup-tracer summary (schema startup-tracer.summary/v1) nor an OTLP/JSON trace`);
  }
  // A vLLM log: the same import as `startup-tracer import`.
  const [{ importLogText }, { toRecords }, { featuresFromLog }, { scanLogFacts }, { loadActiveCoefficients }] = await Promise.all([
    import("../logparse/import-log.ts"), import("../phases/tracker.ts"), import("../predict/log-features.ts"),
    import("./log-facts.ts"), import("../predict/fit.ts")]);
  const r = importLogText(text, { year: opts.year });
  // vLLM's record header (`INFO 01-23 15:48:36 ...`); a fragment without phases still counts as a log.
  if (r.phases.length === 0 && r.engineVersion === null && r.outcome !== "failed" && !/\b(?:INFO|WARNING|DEBUG|ERROR) \d\d-\d\d \d\d:\d\d:\d\d\b/.test(text)) {
    throw new AdviceInputError(`no vLLM start-up found in '${path}' (expected a vLLM log, a summary JSON or a trace file)`);
  }
  const phases = toRecords(r);
  const record: StartupRecord = {
    outcome: r.outcome === "running" ? "incomplete" : r.outcome,
    engine_version: r.engineVersion, model: r.model,
    total_s: Math.round(r.endT - r.t0) / 1000,
    ready_s: r.readyT !== null ? Math.round(r.readyT - r.t0) / 1000 : null,
    ...(r.error ? { error: r.error } : {}),
    phases,
  };
  return {
    kind: "log", record,
    context: {
      run: r.runAttrs, log: scanLogFacts(text, r.stream), features: featuresFromLog(r) as never,
      coefficients: loadActiveCoefficients(opts.stateDir ?? null),
    },
  };
}
