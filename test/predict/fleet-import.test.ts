// Import end to end (a real tracer process over real logs): the hardware prior,
// eta_s per phase, --gpu, and fleet memory (the second start-up of the same
// key on the same host is predicted within 10 %).
import { expect, test } from "bun:test";
import { readFileSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { LOGS, runTracer, tempStateDir } from "../helpers/tracer.ts";

const env = { OTEL_SDK_DISABLED: "true" };

async function importSummary(log: string, state: string, extra: string[] = []): Promise<any> {
  const out = join(state, `summary-${Math.random().toString(36).slice(2)}.json`);
  const r = await runTracer(["import", join(LOGS, log), "--quiet", "--state-dir", state, "--summary-json", out, ...extra], { env, timeoutMs: 90_000 });
  expect(r.code).toBe(0);
  return JSON.parse(readFileSync(out, "utf8"));
}

// every complete start-up in the corpus whose name states a GPU-free or GPU start: two imports of each
const READY = readdirSync(LOGS).filter((f) => f.endsWith(".log") && /-ok(?:[-.]|$)/.test(f) && !/tail|partial|fragment|sampled/.test(f)).slice(0, 3);

test.each(READY)("fleet memory: the second import of %s is predicted within 10 %", async (log) => {
  const state = tempStateDir();
  try {
    const first = await importSummary(log, state);
    if (first.outcome !== "ready") return; // not a complete start-up after all
    const second = await importSummary(log, state);
    expect(Math.abs(second.predicted_total_s - second.ready_s) / second.ready_s).toBeLessThanOrEqual(0.1);
    // the estimate as it stood when each phase began is on the summary's phases
    const withEta = second.phases.filter((p: any) => typeof p.eta_s === "number");
    expect(withEta.length).toBeGreaterThan(0);
    for (const p of withEta) expect(p.attributes["vllm.startup.phase.eta_s"]).toBe(p.eta_s);
  } finally {
    rmSync(state, { recursive: true, force: true });
  }
}, 200_000);

test("--gpu: a malformed value is a usage error; stating the study's GPU gives the H100 model on the study's log", async () => {
  const state = tempStateDir();
  try {
    const bad = await runTracer(["import", join(LOGS, "paper-h100nvl", "v0.10.1.1-h100nvl-llama2-7b-hf.log"), "--gpu", "", "--state-dir", state], { env });
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/invalid --gpu/);
    const unknown = await importSummary(join("paper-h100nvl", "v0.10.1.1-h100nvl-llama2-7b-hf.log"), state, ["--no-history"]);
    const h100 = await importSummary(join("paper-h100nvl", "v0.10.1.1-h100nvl-llama2-7b-hf.log"), state, ["--no-history", "--gpu", "H100 NVL"]);
    // the study's machine: the H100 model is within 10 % of the real start-up; an unknown GPU is assumed slower
    expect(Math.abs(h100.predicted_total_s - h100.ready_s) / h100.ready_s).toBeLessThanOrEqual(0.1);
    expect(unknown.predicted_total_s).toBeGreaterThan(h100.predicted_total_s);
  } finally {
    rmSync(state, { recursive: true, force: true });
  }
}, 200_000);
