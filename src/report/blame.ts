// The table printed at the end, in the manner of `systemd-analyze blame`:
// phases and sub-steps with durations, share of the total, a bar, the
// prediction and what bound each phase; then unexplained time and the outcome.
import type { Summary } from "../trace/summary.ts";
import { renderAdvice } from "../advice/render.ts";

export interface BlameOptions {
  color: boolean;
  width?: number;
  where?: string; // where the trace went
}

/** Name column: the longest sub-step name ("capture_mixed_piecewise") with its indent and a mark. */
const NAME_W = 28;

function fmt(s: number | null | undefined): string {
  if (s === null || s === undefined || !Number.isFinite(s)) return "—";
  if (s >= 100) return `${s.toFixed(0)} s`;
  if (s >= 10) return `${s.toFixed(1)} s`;
  return `${s.toFixed(2)} s`;
}

export function renderBlame(sum: Summary, opts: BlameOptions): string {
  const total = sum.ready_s ?? sum.total_s;
  const c = (code: string, s: string) => (opts.color ? `\x1b[${code}m${s}\x1b[0m` : s);
  const head = sum.outcome === "ready" ? c("32", `ready in ${fmt(sum.ready_s)}`)
    : sum.outcome === "failed" ? c("31", `FAILED after ${fmt(sum.total_s)}`)
    : c("33", `${sum.outcome} after ${fmt(sum.total_s)}`);
  const lines: string[] = [];
  lines.push(`startup-tracer: vLLM ${sum.engine_version ?? "(version unknown)"} ${sum.model ?? ""} — ${head}`.replace(/\s+—/, " —"));
  const showBound = sum.phases.some((p) => typeof p.attributes["vllm.startup.phase.bound_by"] === "string");
  const showPred = sum.phases.some((p) => p.predicted_s !== null);
  lines.push(`  ${"phase".padEnd(NAME_W)} ${"duration".padStart(9)} ${"share".padStart(6)}  ${"".padEnd(20)}${showPred ? ` ${"predicted".padStart(9)}` : ""}${showBound ? "  bound by" : ""}`);
  const top = sum.phases.filter((p) => !p.parent).sort((a, b) => a.start_s - b.start_s);
  for (const p of top) {
    row(p, 0);
    for (const s of sum.phases.filter((x) => x.parent === p.name).sort((a, b) => a.start_s - b.start_s)) row(s, 1);
  }
  if (sum.unexplained_s > 0) {
    const share = total > 0 ? (100 * sum.unexplained_s) / total : 0;
    lines.push(`  ${"(unexplained)".padEnd(NAME_W)} ${fmt(sum.unexplained_s).padStart(9)} ${`${share.toFixed(1)}%`.padStart(6)}`);
    // Where it lies: between which two markers (the largest stretches first).
    const gaps = [...(sum.unexplained_gaps ?? [])].filter((g) => g.duration_s >= 0.05).sort((a, b) => b.duration_s - a.duration_s).slice(0, 3);
    for (const g of gaps) {
      const from = g.after ? `end of ${g.after}` : "start";
      const to = g.before ? `start of ${g.before}` : "end";
      lines.push(`    ${c("90", `${fmt(g.duration_s)} between the ${from} and the ${to} (at ${fmt(g.start_s)})`)}`);
    }
  }
  if (sum.error) lines.push(`  ${c("31", "error:")} ${sum.error}`);
  lines.push(`  outcome: ${sum.outcome}   trace: ${sum.trace_id}${opts.where ? `   → ${opts.where}` : ""}`);
  return `${lines.join("\n")}\n${renderAdvice(sum.advice, { color: opts.color })}`;

  function row(p: Summary["phases"][number], depth: number) {
    const d = p.duration_s ?? 0;
    const share = total > 0 ? (100 * d) / total : 0;
    const barLen = Math.max(0, Math.min(20, Math.round(share / 5)));
    const bar = (depth ? "▪" : "█").repeat(barLen);
    const name = `${"  ".repeat(depth)}${p.name}${p.status === "error" ? " ✗" : p.status === "running" ? " …" : ""}`;
    const slow = p.attributes["vllm.startup.phase.slow"] === true ? c("33", " slow") : "";
    const bound = typeof p.attributes["vllm.startup.phase.bound_by"] === "string" ? `  ${p.attributes["vllm.startup.phase.bound_by"]}` : "";
    lines.push(`  ${(p.status === "error" ? c("31", name.padEnd(NAME_W)) : name.padEnd(NAME_W))} ${fmt(d).padStart(9)} ${`${share.toFixed(1)}%`.padStart(6)}  ${c(depth ? "90" : "36", bar.padEnd(20))}${showPred ? ` ${fmt(p.predicted_s).padStart(9)}` : ""}${showBound ? bound || "  " : ""}${slow}`);
  }
}
