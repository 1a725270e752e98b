// startup-tracer predict --model <dir-or-hub-id> [--json] [--compile-cache warm|cold|auto]
//                        [--vllm-version <v>] [--state-dir <dir>] [-- <vllm serve arguments>]
// Prints the per-phase prediction (with each phase's explanation) and the total.

import { extractFeatures } from "../../predict/features.ts";
import { loadActiveCoefficients } from "../../predict/fit.ts";
import { defaultStateDir } from "../../predict/history.ts";
import { explainLine, predict } from "../../predict/model.ts";
import { ALL_PHASES, parentOf, phaseOrder, type PhaseName } from "../../phases/catalog.ts";

const HELP = `usage: startup-tracer predict --model <dir-or-hub-id> [--json] [--compile-cache warm|cold|auto]
                             [--vllm-version <version>] [--state-dir <dir>] [--gpu <name>[xN]]
                             [-- <vllm serve arguments>]

Predicts each start-up phase of \`vllm serve\` from the model's files and the
command line (nothing is downloaded, no GPU needed). Uses the local calibration
(<state dir>/coefficients.json, written by \`startup-tracer fit\`) when present,
else the reference coefficients (the start-up study's H100 NVL machine).
  --json            {"total_s", "phases": {<phase>: s}, "features", "calibration"}
  --compile-cache   warm|cold|auto (default auto: look in VLLM_CACHE_ROOT)
  --vllm-version    vLLM version for its CUDA-graph defaults (default: the study's 0.10.1.1)
  --gpu             the GPU it will run on (L4, A100x8, "RTX 4090", cpu; default: this host's
                    nvidia-smi): the study's H100 model is carried to that hardware class
                    (src/predict/hardware-priors.json) with its uncertainty
`;

export async function run(argv: string[]): Promise<number> {
  let model: string | undefined;
  let json = false;
  let compileCache: "warm" | "cold" | "auto" = "auto";
  let vllmVersion: string | null = null;
  let stateDir: string | null = null;
  let gpu: string | null = null;
  let serveArgs: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = (): string | null => {
      const eq = a.indexOf("=");
      if (eq > 0) return a.slice(eq + 1);
      const v = argv[i + 1];
      if (v === undefined || v.startsWith("--")) return null;
      i++;
      return v;
    };
    const name = a.includes("=") ? a.slice(0, a.indexOf("=")) : a;
    if (a === "--") { serveArgs = argv.slice(i + 1); break; }
    if (a === "--help" || a === "-h") { process.stdout.write(HELP); return 0; }
    if (a === "--json") { json = true; continue; }
    if (name === "--model" || name === "--compile-cache" || name === "--vllm-version" || name === "--state-dir" || name === "--gpu") {
      const v = val();
      if (v === null || v === "") { console.error(`startup-tracer predict: ${name} needs a value`); return 2; }
      if (name === "--model") model = v;
      else if (name === "--vllm-version") vllmVersion = v;
      else if (name === "--state-dir") stateDir = v;
      else if (name === "--gpu") {
        try { (await import("../../predict/hardware.ts")).parseGpuOption(v); } catch (e) { console.error(`startup-tracer predict: ${(e as Error).message}`); return 2; }
        gpu = v;
      }
      else {
        if (v !== "warm" && v !== "cold" && v !== "auto") { console.error(`startup-tracer predict: --compile-cache must be warm, cold or auto (got ${JSON.stringify(v)})`); return 2; }
        compileCache = v;
      }
      continue;
    }
    console.error(`startup-tracer predict: unknown option ${JSON.stringify(a)} (see --help)`);
    return 2;
  }
  if (!model && serveArgs.length === 0) { console.error("startup-tracer predict: --model <dir-or-hub-id> is required"); return 2; }

  const features = await extractFeatures({ model, args: serveArgs, env: process.env, vllmVersion, compileCache });
  const coefs = loadActiveCoefficients(stateDir ?? defaultStateDir(process.env));
  // The hardware it will run on: --gpu, else this host's inventory (nvidia-smi); the prior carries the H100 model there.
  const [{ hardwareFromInventory, describeHardware }, { livePrediction }] = await Promise.all([import("../../predict/hardware.ts"), import("../../predict/live-prior.ts")]);
  let invAttrs = {};
  if (!gpu) { try { invAttrs = await (await import("../../sampling/inventory.ts")).hostInventory(); } catch { /* no inventory: unknown GPU */ } }
  const hw = hardwareFromInventory(invAttrs, gpu);
  // predicting on a host without a GPU is usually predicting for another machine: an unknown GPU, not the CPU back-end
  if (!gpu && hw.platform === "cpu") hw.platform = null;
  const lp = livePrediction(features, coefs, hw, serveArgs.length ? ["serve", ...serveArgs] : ["serve"]);
  const p = { ...lp.prediction, explain: lp.prediction.explain };
  if (json) {
    process.stdout.write(JSON.stringify({ total_s: p.total_s, phases: p.phases, sigma: p.sigma, sigma_total: p.sigma_total, hardware: { ...hw, class: lp.hw_class, description: describeHardware(hw) }, features, calibration: coefs.calibration }, null, 2) + "\n");
    return 0;
  }
  const out: string[] = [];
  out.push(`model: ${features.model ?? "?"}${features.model_dir && features.model_dir !== features.model ? ` (${features.model_dir})` : ""}`);
  out.push(`calibration: ${coefs.calibration} (${coefs.source})`);
  out.push(`hardware: ${describeHardware(hw)}; total ${p.total_s.toFixed(0)} s, likely ${(p.total_s * Math.exp(-p.sigma_total)).toFixed(0)}-${(p.total_s * Math.exp(p.sigma_total)).toFixed(0)} s`);
  const tops = ["model_download", "bootstrap", "tokenizer_init", "model_loading", "torch_compile", "kv_cache_profiling", "cuda_graph_capture", "server_start"];
  const line = (n: string, indent: number) => {
    out.push(`${" ".repeat(indent)}${n.padEnd(24 - indent)} ${p.phases[n].toFixed(2).padStart(8)} s`);
    if (p.explain[n]) out.push(`${" ".repeat(indent + 2)}${explainLine(n, p.explain[n], p.phases[n])}`);
  };
  for (const t of tops) {
    if (!(t in p.phases)) continue;
    line(t, 2);
    const subs = (ALL_PHASES as readonly string[]).filter((n) => parentOf(n as PhaseName) === t && n in p.phases)
      .sort((a, b) => phaseOrder(a as PhaseName) - phaseOrder(b as PhaseName));
    for (const s of subs) line(s, 4);
  }
  out.push(`  ${"total".padEnd(22)} ${p.total_s.toFixed(2).padStart(8)} s`);
  for (const w of features.warnings) out.push(`warning: ${w}`);
  process.stdout.write(out.join("\n") + "\n");
  return 0;
}
