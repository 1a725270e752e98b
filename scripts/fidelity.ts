// `make fidelity`: one row per corpus log (../shared/vllm-logs/ and demo/):
// outcome, unexplained share, invariant violations, live-vs-import difference
// (the real binary wrapping a replay of the log with --time-scale), failed phase.
// Usage: bun scripts/fidelity.ts [--bin dist/startup-tracer] [--no-live] [--markdown]
import { readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { comparePhases, importFidelity, multiplexed, speedFor, wrapReplay } from "./fidelity-lib.ts";

const ROOT = join(import.meta.dir, "..");
const LOGS = join(ROOT, "..", "shared", "vllm-logs");
const args = process.argv.slice(2);
const bin = args.includes("--bin") ? args[args.indexOf("--bin") + 1] : join(ROOT, "dist", "startup-tracer");
const live = !args.includes("--no-live");

function walk(dir: string, out: string[]): string[] {
  for (const f of readdirSync(dir).sort()) {
    const p = join(dir, f);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (f.endsWith(".log")) out.push(p);
  }
  return out;
}

const files = [...walk(LOGS, []), ...walk(join(ROOT, "demo"), [])];
const rows: string[] = [];
rows.push("| log | outcome | start-up | unexplained | invariant violations | live vs import | failed phase |");
rows.push("|---|---|---|---|---|---|---|");
let bad = 0;
for (const f of files) {
  const name = f.startsWith(LOGS) ? relative(LOGS, f) : relative(ROOT, f);
  const imp = importFidelity(f);
  let liveCol = "—";
  if (live && multiplexed(f)) liveCol = "n/a: several start-ups or services in one log";
  else if (live) {
    const speed = speedFor(imp.totalS);
    const w = await wrapReplay(bin, f, speed, 120_000, 0.04 * speed);
    if (!w) liveCol = "no summary";
    else {
      const c = comparePhases(w.phases, imp.phases, { tail: !imp.startKnown, sameOutcome: w.outcome === imp.outcome });
      const extra = [...c.onlyLive.map((n) => `+${n}`), ...c.onlyImport.map((n) => `-${n}`), ...c.statusDiff.map((n) => `status ${n}`),
        ...(w.falseAlarms.length ? [`false alarm ${w.falseAlarms.join(",")}`] : [])];
      liveCol = `${c.ok && !w.falseAlarms.length ? "ok" : "DIFF"}: max ${c.worst.diffS.toFixed(2)} s${c.worst.name ? ` (${c.worst.name})` : ""}${extra.length ? `; ${extra.join(" ")}` : ""} at ${speed}x`;
      if (!c.ok || w.falseAlarms.length) bad++;
    }
  }
  if (imp.violations.length) bad++;
  const viol = imp.violations.length ? imp.violations.map((v) => `${v.kind} ${v.phase}${v.other ? `/${v.other}` : ""}`).join("; ") : "0";
  rows.push(`| ${name} | ${imp.outcome} | ${imp.totalS.toFixed(1)} s | ${(100 * imp.unexplainedShare).toFixed(1)} % | ${viol} | ${liveCol} | ${imp.failedPhase ?? "—"} |`);
  if (!args.includes("--markdown")) console.error(rows[rows.length - 1]);
}
console.log(rows.join("\n"));
console.log(`\n${files.length} logs, ${bad} with a difference or a violation`);
process.exit(bad ? 1 : 0);
