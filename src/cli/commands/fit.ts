// startup-tracer fit [--state-dir <dir>] [--from-tempo <url>] [--from-jaeger <url>] [--json]
// Refits the predictor's coefficients from this machine's start-up history (and,
// optionally, past start-up traces from a trace backend) and writes them to
// <state dir>/coefficients.json, which `predict` and the daemon then use.

import { mkdirSync, writeFileSync } from "node:fs";
import { fromJaeger, fromTempo, refitFromHistory, tracesAsRuns, type ImportedTrace } from "../../predict/fit.ts";
import { History, defaultStateDir, localCoefficientsPath } from "../../predict/history.ts";
import { DEFAULT_COEFFICIENTS } from "../../predict/model.ts";

const HELP = `usage: startup-tracer fit [--state-dir <dir>] [--from-tempo <url>] [--from-jaeger <url>] [--json]

Refits the per-phase start-up model from the local history (<state dir>/history.sqlite):
least squares per phase when there are enough runs, else per-phase scale factors
over the reference model. --from-tempo / --from-jaeger add past start-up traces
(service.name=startup-tracer) read from a Tempo or Jaeger query API.
State dir default: $STARTUP_TRACER_STATE_DIR, $XDG_STATE_HOME/startup-tracer, ~/.local/state/startup-tracer.
`;

export async function run(argv: string[]): Promise<number> {
  let stateDir: string | null = null;
  let tempo: string | null = null;
  let jaeger: string | null = null;
  let json = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const name = a.includes("=") ? a.slice(0, a.indexOf("=")) : a;
    if (a === "--help" || a === "-h") { process.stdout.write(HELP); return 0; }
    if (a === "--json") { json = true; continue; }
    if (name === "--state-dir" || name === "--from-tempo" || name === "--from-jaeger") {
      const v = a.includes("=") ? a.slice(a.indexOf("=") + 1) : argv[i + 1]?.startsWith("--") ? undefined : argv[++i];
      if (!v) { console.error(`startup-tracer fit: ${name} needs a value`); return 2; }
      if (name !== "--state-dir" && !/^https?:\/\/[^\s]+$/.test(v)) { console.error(`startup-tracer fit: ${name} needs an http(s) URL (got ${JSON.stringify(v)})`); return 2; }
      if (name === "--state-dir") stateDir = v; else if (name === "--from-tempo") tempo = v; else jaeger = v;
      continue;
    }
    console.error(`startup-tracer fit: unknown option ${JSON.stringify(a)} (see --help)`);
    return 2;
  }
  const dir = stateDir ?? defaultStateDir(process.env);
  const h = new History(dir);
  const runs = h.listRuns();
  h.close();
  let traces: ImportedTrace[] = [];
  const warnings: string[] = [];
  for (const [label, url, fn] of [["tempo", tempo, fromTempo], ["jaeger", jaeger, fromJaeger]] as const) {
    if (!url) continue;
    try { traces = traces.concat(await fn(url)); } catch (e) { warnings.push(`cannot read traces from ${label} ${url}: ${(e as Error).message}`); }
  }
  // a trace already in the local history is not counted twice
  const known = new Set(runs.map((r) => r.trace_id).filter(Boolean));
  const extra = tracesAsRuns(traces.filter((t) => !known.has(t.trace_id)));
  const all = [...runs, ...extra];
  if (all.length === 0) {
    for (const w of warnings) console.error(`startup-tracer fit: ${w}`);
    console.error(`startup-tracer fit: no finished start-ups in ${dir} (or the trace backend): nothing to fit`);
    return 1;
  }
  // A fleet's keys: traces that carry vllm.startup.fleet predict the next start-up of that key here too.
  let fleetRuns = 0;
  if (traces.length) {
    const hf = new History(dir);
    fleetRuns = hf.importFleetRuns(traces.map((t) => ({ trace_id: t.trace_id, engine_version: t.engine_version, phases: t.phases, predicted: t.predicted, fleet_key: t.fleet_key ?? null })));
    hf.close();
  }
  const { coefficients, report } = refitFromHistory(all, DEFAULT_COEFFICIENTS);
  const path = localCoefficientsPath(dir);
  try {
    mkdirSync(dir, { recursive: true });
    writeFileSync(path, JSON.stringify(coefficients, null, 2) + "\n");
  } catch (e) {
    console.error(`startup-tracer fit: cannot write ${path}: ${(e as Error).message}`);
    return 1;
  }
  if (json) {
    process.stdout.write(JSON.stringify({ coefficients_path: path, runs_local: runs.length, runs_from_traces: extra.length, fleet_runs_added: fleetRuns, report, warnings }, null, 2) + "\n");
    return 0;
  }
  const lines = [`fitted on ${runs.length} local run(s)${extra.length ? ` + ${extra.length} trace(s)` : ""}; wrote ${path}${fleetRuns ? `; ${fleetRuns} fleet-keyed run(s) added to the history` : ""}`];
  for (const [phase, r] of Object.entries(report.per_phase)) {
    lines.push(`  ${phase.padEnd(20)} ${r.method.padEnd(9)} n=${r.n}${r.scale !== undefined ? ` scale=${r.scale}` : ""}`);
  }
  for (const w of warnings) lines.push(`warning: ${w}`);
  process.stdout.write(lines.join("\n") + "\n");
  return 0;
}
