// `import <logfile>`: the trace of a finished log, with the same spans,
// summary and blame table as a live start-up.
import { existsSync, readFileSync } from "node:fs";
import { adviceAttributes, scanLogFacts } from "../advice/log-facts.ts";
import { importLogFile } from "../logparse/import-log.ts";
import { StartupSession } from "../session/startup-session.ts";
import { readExportConfig } from "../trace/otel-config.ts";
import { newTraceIds } from "../trace/trace-ids.ts";
import { defaultStateDir } from "../state/state-dir.ts";
import { learnSecrets } from "../redact/redact.ts";
import { reportEnd } from "./report-end.ts";
import { UsageError, type OptionValues } from "./options.ts";
import { warn } from "../report/messages.ts";

export async function runImport(file: string, values: OptionValues): Promise<number> {
  if (!existsSync(file)) throw new UsageError(`startup-tracer import: cannot read '${file}'`);
  learnSecrets(process.env);
  let result;
  try {
    result = importLogFile(file, { year: values.year as number | undefined });
  } catch (e) {
    throw new UsageError(`startup-tracer import: cannot read '${file}': ${(e as Error).message}`);
  }
  const exportConfig = readExportConfig(process.env, { otlpEndpoint: values["otlp-endpoint"] as string | undefined });
  for (const w of exportConfig.warnings) warn(w);
  const stateDir = (values["state-dir"] as string | undefined) ?? defaultStateDir();
  const session = new StartupSession({ ids: newTraceIds(process.env), mode: "import", t0: result.t0, exportConfig, stateDir });
  // Predictions from what the log reveals, so imported start-ups compare with
  // the model and calibrate the local history like live ones.
  const [{ featuresFromLog }, { predict }, { loadActiveCoefficients }] = await Promise.all([
    import("../predict/log-features.ts"), import("../predict/model.ts"), import("../predict/fit.ts")]);
  const features = featuresFromLog(result);
  const coefficients = loadActiveCoefficients(stateDir);
  void predict;
  // The hardware and configuration the log reveals (or --gpu), the prior for that
  // hardware, a fleet-history match, and the ETA replayed phase by phase (src/predict/import-predict.ts).
  const { predictImported, factsFromText } = await import("../predict/import-predict.ts");
  const gpuOption = typeof values.gpu === "string" ? values.gpu : null;
  if (gpuOption !== null) {
    const { parseGpuOption } = await import("../predict/hardware.ts");
    try { parseGpuOption(gpuOption); } catch (e) { throw new UsageError(`startup-tracer import: ${(e as Error).message}`); }
  }
  let keyHistory: ((key: string) => Record<string, number> | null) | undefined;
  if (!values["no-history"]) {
    const { History } = await import("../predict/history.ts");
    keyHistory = (key) => { const h = new History(stateDir); try { return h.phasesForKey(key); } finally { h.close(); } };
  }
  const ip = predictImported(result, factsFromText(readFileSync(file, "utf8")), coefficients, gpuOption, keyHistory);
  const prediction = ip.prediction;
  const present = new Set(result.phases.map((p) => p.name));
  session.addPlugin({
    name: "prediction",
    predicted: (name) => (present.has(name) ? prediction.phases[name] ?? null : null),
    predictedTotal: () => prediction.total_s,
    phaseAttributes: (p) => {
      const out: Record<string, number> = {};
      const eta = ip.etaAtStart.get(p.name);
      if (eta !== undefined) out["vllm.startup.phase.eta_s"] = eta;
      const sg = prediction.sigma[p.name];
      if (sg !== undefined) out["vllm.startup.phase.predicted_sigma"] = sg;
      return out;
    },
    rootAttributes: () => ip.attributes,
    finished: async (summary) => {
      if (values["no-history"]) return;
      const { History } = await import("../predict/history.ts");
      const h = new History(stateDir);
      h.recordStartup(summary, features as never, ip.fleet_key);
      h.close();
    },
  });
  // The advice also reads facts the timeline does not keep (capture sizes, loader) from the log itself,
  // and puts them on the phases, so `advise <summary|trace>` later sees the same (README "Advice").
  const logFacts = scanLogFacts(readFileSync(file, "utf8"), result.stream);
  session.addPlugin({
    name: "advice",
    adviceContext: () => ({ features, coefficients, log: logFacts }),
    phaseAttributes: (p) => adviceAttributes(p.name, logFacts),
  });
  const f = await session.finalize("eof", undefined, result);
  const d = await reportEnd(f, values, exportConfig);
  return d.how === "lost" ? 1 : 0;
}
