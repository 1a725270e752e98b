// Prediction for an imported log: the hardware and configuration the log
// reveals (./log-hardware.ts, or `--gpu`), the reference model carried to that
// hardware (./prior.ts), a fleet-history match when one exists (./history.ts),
// and the ETA replayed phase by phase (./live.ts) so each phase records the ETA
// to readiness as it stood when the phase began.

import type { TrackerResult } from "../phases/tracker.ts";
import type { Attributes } from "../state/types.ts";
import { type Coefficients, predict } from "./model.ts";
import { LivePredictor } from "./live.ts";
import { LogFactScanner, type LogFacts } from "./log-hardware.ts";
import { describeHardware, hardwareClass, hardwareFromLog, type Hardware } from "./hardware.ts";
import { aprioriFeatures, applyPrior, PRIORS, type Fitted, type PriorPrediction } from "./prior.ts";
import { fleetKey, type FleetKeyInput } from "./fleet.ts";

export interface ImportPrediction {
  facts: LogFacts;
  hardware: Hardware;
  prediction: PriorPrediction;
  /** ETA (s) when each phase began. */
  etaAtStart: Map<string, number>;
  fleet_key: string;
  /** Attributes for the root span / history (hardware class, GPU, key). */
  attributes: Attributes;
}

export function factsFromText(text: string): LogFacts {
  const s = new LogFactScanner();
  for (const line of text.split(/\r\n|\n|\r/)) s.push(line);
  return s.finish();
}

export function predictImported(r: TrackerResult, facts: LogFacts, coefficients: Coefficients, gpuOption: string | null,
  history?: (key: string) => Record<string, number> | null): ImportPrediction {
  const hardware = hardwareFromLog(facts, gpuOption);
  const hwClass = hardwareClass(hardware);
  const ref = predict(aprioriFeatures(facts, r), coefficients);
  let prediction = applyPrior(ref, { hwClass, server: facts.server_mode, engine: facts.engine, multimodal: facts.multimodal });
  const keyIn: FleetKeyInput = {
    model: facts.model ?? r.model, gpu: hardware.gpu ?? (hardware.platform === "cpu" ? "cpu" : null), gpu_count: hardware.gpu_count,
    vllm_version: facts.vllm_version ?? r.engineVersion, engine: facts.engine, eager: facts.enforce_eager, quantization: facts.quantization,
    cuda_graph_sizes: facts.cuda_graph_sizes, tp: facts.tensor_parallel_size, pp: facts.pipeline_parallel_size, compile_level: facts.compile_level,
  };
  const key = fleetKey(keyIn);
  const seen = history?.(key) ?? null;
  if (seen) prediction = fromHistory(prediction, seen);
  // once model loading ended, the weights it measured refine what is still to come
  const afterLoading = seen ? null : applyPrior(predict(aprioriFeatures(facts, r, { afterLoading: true }), coefficients),
    { hwClass, server: facts.server_mode, engine: facts.engine, multimodal: facts.multimodal });
  const etaAtStart = replayEta(r, prediction, afterLoading);
  return {
    facts, hardware, prediction, etaAtStart, fleet_key: key,
    attributes: {
      "vllm.startup.hardware.class": hwClass,
      "vllm.startup.hardware.description": describeHardware(hardware),
      "vllm.startup.prediction.sigma": prediction.sigma_total,
      "vllm.startup.prediction.basis": seen ? "history" : hwClass === "reference" ? "reference" : "prior",
      "vllm.startup.fleet": key,
    },
  };
}

/**
 * A key seen before on this host: its phases as last measured replace the
 * prior (the same model, GPU, version and configuration start the same way),
 * with a narrow uncertainty.
 */
export function fromHistory(p: PriorPrediction, seen: Record<string, number>): PriorPrediction {
  const phases = { ...p.phases };
  const sigma = { ...p.sigma };
  for (const [name, v] of Object.entries(seen)) {
    if (!(typeof v === "number" && Number.isFinite(v) && v >= 0)) continue;
    phases[name] = Math.round(v * 1000) / 1000;
    sigma[name] = 0.1;
  }
  const total = Object.keys(PRIORS.groups).flatMap((g) => PRIORS.groups[g as keyof typeof PRIORS.groups].phases)
    .reduce((s, top) => s + (phases[top] ?? 0), 0);
  return { ...p, phases, sigma, total_s: Math.round(total * 1000) / 1000, sigma_total: 0.1, basis: "history" };
}

/** Replays the log's phases (in order of start) into the live predictor; the ETA when each phase began. */
export function replayEta(r: TrackerResult, prediction: PriorPrediction, afterLoading: PriorPrediction | null = null, fitted: Fitted = PRIORS.fitted): Map<string, number> {
  const lp = new LivePredictor(prediction, { gapsFactor: fitted.gaps.factor, elapsed: fitted.elapsed ?? {} });
  type Ev = { t: number; end: boolean; name: string; dur: number; boundBy: unknown };
  const evs: Ev[] = [];
  for (const p of r.phases) {
    const st = (p.startMs - r.t0) / 1000;
    evs.push({ t: st, end: false, name: p.name, dur: p.durationS, boundBy: null });
    if (p.status === "ok") evs.push({ t: st + p.durationS, end: true, name: p.name, dur: p.durationS, boundBy: p.attrs["vllm.startup.phase.bound_by"] });
  }
  evs.sort((a, b) => a.t - b.t || (a.end === b.end ? 0 : a.end ? -1 : 1));
  const out = new Map<string, number>();
  for (const e of evs) {
    if (e.end) {
      lp.setBoundBy(e.name, e.boundBy);
      lp.onPhaseEnd(e.name, e.dur);
      if (e.name === "model_loading" && afterLoading) lp.rebase(afterLoading);
      continue;
    }
    lp.onPhaseStart(e.name, e.t);
    const eta = lp.etaAt(e.name);
    if (eta !== null && !out.has(e.name)) out.set(e.name, eta);
  }
  return out;
}
