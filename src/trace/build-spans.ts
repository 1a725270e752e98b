// Builds the OpenTelemetry spans of one start-up with the SDK: a root span,
// one span per phase, sub-steps under their phase. Spans are created after the
// fact with explicit start/end times and explicit parents, so correctness does
// not depend on context propagation (ecosystem notes §1.3).
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, TraceFlags, type Attributes as OtelAttributes, type Context } from "@opentelemetry/api";
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider, RandomIdGenerator, type IdGenerator, type ReadableSpan } from "@opentelemetry/sdk-trace";
import { resourceFromAttributes } from "@opentelemetry/resources";
import type { TraceIds } from "./trace-ids.ts";
import type { TrackerResult, FinalPhase } from "../phases/tracker.ts";
import type { Attributes } from "../state/types.ts";
import { redactAttributes, redactText } from "../redact/redact.ts";
import { VERSION } from "../version.ts";

export interface SpanEvent {
  name: string;
  timeMs: number;
  attributes?: Attributes;
}

export interface TraceInput {
  ids: TraceIds;
  result: TrackerResult;
  mode: "wrap" | "import" | "follow";
  serviceName: string;
  resource: Attributes;
  /** Attributes for the root span (args, child, host facts, sampling series). */
  root: Attributes;
  /** Extra attributes per phase (sampling summaries, predictions, slow flags). */
  phase: (p: FinalPhase) => Attributes;
  events?: (p: FinalPhase) => SpanEvent[];
  /** Advice for this start-up (src/advice/): one `vllm.startup.advice` event each on the root span. */
  advice?: { lever: string; phase: string; saving_s: number; evidence: string; action: string }[];
}

/** Gives the root span the id that the child's TRACEPARENT already names. */
class PresetRootIdGenerator implements IdGenerator {
  private random = new RandomIdGenerator();
  private first = true;
  constructor(private ids: TraceIds) {}
  generateTraceId(): string {
    return this.ids.traceId;
  }
  generateSpanId(): string {
    if (this.first) {
      this.first = false;
      return this.ids.rootSpanId;
    }
    return this.random.generateSpanId();
  }
}

function otelAttrs(a: Attributes): OtelAttributes {
  return redactAttributes(a) as OtelAttributes;
}

export function buildSpans(input: TraceInput): ReadableSpan[] {
  const { ids, result } = input;
  const exporter = new InMemorySpanExporter();
  const provider = new TracerProvider({
    resource: resourceFromAttributes(otelAttrs({ ...input.resource, "service.name": input.serviceName })),
    idGenerator: new PresetRootIdGenerator(ids),
    spanProcessors: [new SimpleSpanProcessor({ exporter } as never) as never],
    // Long error texts and series are bounded by the tracer itself.
    spanLimits: { attributeValueLengthLimit: 8192, attributeCountLimit: 256, eventCountLimit: 64 },
  } as never);
  const tracer = provider.getTracer("startup-tracer", VERSION);

  let parentCtx: Context = ROOT_CONTEXT;
  if (ids.parentSpanId) {
    parentCtx = trace.setSpanContext(ROOT_CONTEXT, {
      traceId: ids.traceId, spanId: ids.parentSpanId, traceFlags: ids.traceFlags || TraceFlags.SAMPLED, isRemote: true,
    });
  }
  // Copied onto every span so that span-level queries (span metrics, fleet
  // dashboards) can group phases by model, version and GPU type.
  const gpuModels = input.resource["vllm.startup.gpu.models"];
  const gpuModel = Array.isArray(gpuModels) && typeof gpuModels[0] === "string" ? gpuModels[0] : null;
  const common: Attributes = {
    ...(result.model ? { "vllm.startup.model": result.model } : {}),
    ...(result.engineVersion ? { "vllm.startup.engine.version": result.engineVersion } : {}),
    ...(gpuModel ? { "vllm.startup.gpu.model": gpuModel } : {}),
  };
  const root = tracer.startSpan("vllm.startup", {
    kind: SpanKind.INTERNAL,
    startTime: result.t0,
    attributes: otelAttrs({
      "vllm.startup.engine": "vllm",
      "vllm.startup.mode": input.mode,
      "vllm.startup.outcome": result.outcome,
      ...common,
      ...(result.readyT !== null ? { "vllm.startup.ready_s": round3((result.readyT - result.t0) / 1000) } : {}),
      ...(result.parallel.tensor ? { "vllm.startup.parallel.tensor_size": result.parallel.tensor } : {}),
      ...(result.parallel.pipeline ? { "vllm.startup.parallel.pipeline_size": result.parallel.pipeline } : {}),
      ...(result.parallel.data ? { "vllm.startup.parallel.data_size": result.parallel.data } : {}),
      ...(result.error ? { "vllm.startup.error": result.error } : {}),
      ...result.runAttrs,
      ...input.root,
    }),
  }, parentCtx);
  // Advice (issue 13): one event per item, biggest saving first, at the end of the start-up.
  (input.advice ?? []).forEach((a, i) => root.addEvent("vllm.startup.advice", otelAttrs({
    "vllm.startup.advice.rank": i + 1, "vllm.startup.advice.lever": a.lever, "vllm.startup.advice.phase": a.phase,
    "vllm.startup.advice.saving_s": a.saving_s, "vllm.startup.advice.evidence": a.evidence, "vllm.startup.advice.action": a.action,
  }), result.endT));
  if (result.outcome === "failed") root.setStatus({ code: SpanStatusCode.ERROR, message: redactText(result.error ?? "start-up failed") });
  const rootCtx = trace.setSpan(ROOT_CONTEXT, root);

  // Parents first, so sub-steps can name them.
  const ordered = [...result.phases].sort((a, b) => (a.parent ? 1 : 0) - (b.parent ? 1 : 0));
  const ctxOf = new Map<string, Context>();
  const spans: { span: ReturnType<typeof tracer.startSpan>; p: FinalPhase }[] = [];
  for (const p of ordered) {
    const parent = p.parent ? ctxOf.get(p.parent) ?? rootCtx : rootCtx;
    const span = tracer.startSpan(p.name, {
      startTime: p.startMs,
      attributes: otelAttrs({
        "vllm.startup.phase": p.name,
        ...(p.parent ? { "vllm.startup.phase.parent": p.parent } : {}),
        "vllm.startup.phase.duration_s": p.durationS,
        ...(p.printedS !== undefined ? { "vllm.startup.phase.printed_duration_s": p.printedS } : {}),
        ...(p.ranks > 1 ? { "vllm.startup.phase.ranks": p.ranks } : {}),
        ...(p.rankDurationsS.length > 1 ? { "vllm.startup.phase.rank_durations_s": p.rankDurationsS } : {}),
        ...(p.status === "running" ? { "vllm.startup.phase.incomplete": true } : {}),
        ...common,
        ...p.attrs,
        ...input.phase(p),
      }),
    }, parent);
    for (const e of input.events?.(p) ?? []) span.addEvent(e.name, otelAttrs(e.attributes ?? {}), e.timeMs);
    if (p.status === "error") {
      const msg = redactText(p.error ?? "failed");
      span.setStatus({ code: SpanStatusCode.ERROR, message: msg });
      span.addEvent("exception", { "exception.message": msg, ...(excType(msg) ? { "exception.type": excType(msg)! } : {}) }, p.endMs);
    }
    ctxOf.set(p.name, trace.setSpan(ROOT_CONTEXT, span));
    spans.push({ span, p });
  }
  for (const { span, p } of spans) span.end(p.endMs);
  root.end(result.endT);
  return exporter.getFinishedSpans();
}

function excType(msg: string): string | null {
  const m = /^([\w.]+(?:Error|Exception|Exit|Fault))\b/.exec(msg);
  return m ? m[1] : null;
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
