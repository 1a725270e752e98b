// How faithful the timeline is, per corpus log: invariant violations,
// unexplained share, the failed phase, and what a live wrap of the same log
// says against `import`. Shared by `make fidelity` (scripts/fidelity.ts) and the
// tests (test/cli/replay-fidelity.test.ts).
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { importLogText } from "../src/logparse/import-log.ts";
import { checkInvariants, type Violation } from "../src/phases/invariants.ts";
import type { TrackerResult } from "../src/phases/tracker.ts";

export interface PhaseLite {
  name: string;
  parent: string | null;
  start_s: number;
  duration_s: number;
  status: string;
}

export interface Fidelity {
  outcome: string;
  totalS: number;
  unexplainedS: number;
  unexplainedShare: number;
  violations: Violation[];
  failedPhase: string | null;
  startKnown: boolean;
  phases: PhaseLite[];
}

export function fidelityOf(r: TrackerResult): Fidelity {
  const totalS = (r.endT - r.t0) / 1000;
  const failed = r.phases.filter((p) => p.status === "error").sort((a, b) => (a.parent ? 1 : 0) - (b.parent ? 1 : 0));
  return {
    outcome: r.outcome, totalS, unexplainedS: r.unexplainedS, unexplainedShare: totalS > 0 ? r.unexplainedS / totalS : 0,
    violations: checkInvariants(r.phases, r.t0, r.endT),
    failedPhase: failed.length ? failed.map((p) => p.name).join("/") : null,
    startKnown: r.startKnown,
    phases: r.phases.map((p) => ({ name: p.name, parent: p.parent, start_s: (p.startMs - r.t0) / 1000, duration_s: p.durationS, status: p.status })),
  };
}

export function importFidelity(path: string): Fidelity {
  return fidelityOf(importLogText(readFileSync(path)));
}

/**
 * Phases of a live trace against import's: the largest duration difference
 * beyond max(0.5 s, 2 %), names only one has, statuses that differ. A phase
 * within that tolerance of zero counts as absent (import cannot see the time
 * before a log's first line). For a tail (`tail`), the live trace knows the
 * child's start and import does not: phases only live has are not compared.
 * Statuses are compared when the outcomes agree (a replay that ends without
 * readiness exits 1, where import says incomplete).
 */
export function comparePhases(live: PhaseLite[], imp: PhaseLite[], opts: { tail?: boolean; sameOutcome?: boolean; slackS?: number } = {}) {
  // slackS: what the replay's own timing adds (scheduling jitter times its speed-up).
  const tol = (d: number) => Math.max(0.5, 0.02 * d) + (opts.slackS ?? 0);
  const a = new Map(live.map((p) => [p.name, p]));
  const b = new Map(imp.map((p) => [p.name, p]));
  const onlyLive = opts.tail ? [] : [...a.values()].filter((p) => !b.has(p.name) && p.duration_s > tol(0)).map((p) => p.name);
  const onlyImport = [...b.values()].filter((p) => !a.has(p.name) && p.duration_s > tol(0)).map((p) => p.name);
  let worst = { name: "", diffS: 0, excessS: 0 };
  for (const [n, p] of b) {
    const q = a.get(n);
    if (!q || (opts.tail && (p.name === "bootstrap" || p.parent === "bootstrap"))) continue;
    const diff = Math.abs(q.duration_s - p.duration_s);
    const excess = Math.max(0, diff - tol(p.duration_s));
    if (excess > worst.excessS || (worst.excessS === 0 && diff > worst.diffS)) worst = { name: n, diffS: diff, excessS: excess };
  }
  const statusDiff = opts.sameOutcome === false ? [] : [...b].filter(([n, p]) => a.has(n) && a.get(n)!.status !== p.status).map(([n]) => n);
  return { onlyLive, onlyImport, worst, statusDiff, ok: !onlyLive.length && !onlyImport.length && worst.excessS === 0 && !statusDiff.length };
}

/** A log whose replay is not one start-up of one process tree (compose multiplexing, restarts): live cannot match import. */
export function multiplexed(path: string): boolean {
  const r = importLogText(readFileSync(path));
  return r.restarts.length > 0 || r.stream !== null;
}

/** The real binary wraps a replay of the log at `speed`, with --time-scale; returns its summary JSON. */
export async function wrapReplay(bin: string | string[], log: string, speed: number, timeoutMs = 120_000, slackS = 0): Promise<{ phases: PhaseLite[]; outcome: string; falseAlarms: string[] } | null> {
  const cmd = typeof bin === "string" ? [bin] : bin;
  const dir = mkdtempSync(join(tmpdir(), "st-fidelity-"));
  const summary = join(dir, "summary.json");
  try {
    const proc = Bun.spawn([...cmd, "--time-scale", String(speed), "--summary-json", summary, "--state-dir", dir, "--no-history", "--quiet",
      "--no-status", "--sample-interval", "0", "--", ...cmd, "replay", log, "--speed", String(speed), "--exit-when-done"],
    { stdout: "ignore", stderr: "ignore", stdin: "ignore", env: { ...process.env, OTEL_TRACES_EXPORTER: "none" } });
    const killer = setTimeout(() => proc.kill("SIGKILL"), timeoutMs);
    await proc.exited;
    clearTimeout(killer);
    const s = JSON.parse(readFileSync(summary, "utf8"));
    // Live alerts for phases whose final duration was within their allowance: false alarms.
    // (slackS: the replay's own timing error, which can push a phase just within its allowance over it live)
    const falseAlarms = s.phases.filter((p: { duration_s: number; attributes: Record<string, unknown> }) => p.attributes["vllm.startup.phase.alerted"] === true
      && p.attributes["vllm.startup.phase.slow"] === false && p.duration_s + slackS < Number(p.attributes["vllm.startup.phase.allowance_s"]))
      .map((p: { name: string }) => p.name);
    return { outcome: s.outcome, phases: s.phases, falseAlarms };
  } catch {
    return null;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A replay speed that keeps a log's replay to about `targetS` seconds, within [minSpeed, 50]. */
export function speedFor(totalS: number, targetS = 6, minSpeed = 5): number {
  return Math.min(50, Math.max(minSpeed, Math.ceil(totalS / targetS)));
}
