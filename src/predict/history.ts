// Embedded local history of finished start-ups (bun:sqlite, <state dir>/history.sqlite).
// Stores only features (model geometry, sizes, flags) and phase durations: no
// command lines, environment, paths beyond the model name, or tokens. Never
// throws to callers: failures become warnings (console.warn) and empty results.

import { Database } from "bun:sqlite";
import { mkdirSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import type { Features } from "./features.ts";
import { redactDeep } from "../redact/redact.ts";

export interface HistoryRun {
  id: number;
  recorded_at: string;
  trace_id: string | null;
  engine_version: string | null;
  outcome: string;
  /** Stored features, or null for runs imported from traces. */
  features: Partial<Features> | null;
  /** Observed seconds per phase (canonical names; status ok only). */
  phases: Record<string, number>;
  /** Predicted seconds per phase at the time of the run, when known. */
  predicted: Record<string, number | null>;
  source?: "local" | "trace";
}

// The state directory is decided in one place (src/state/state-dir.ts).
export { defaultStateDir } from "../state/state-dir.ts";
import { defaultStateDir } from "../state/state-dir.ts";

/** Feature keys kept in the history (no paths, no warnings text with paths, nothing secret). */
const KEPT_FEATURES: (keyof Features)[] = [
  "model", "model_source", "vllm_version", "architecture", "model_type", "layers", "attention_layers",
  "hidden_size", "num_attention_heads", "num_kv_heads", "ffn_dim", "vocab_size", "n_experts", "n_active_experts",
  "is_moe", "is_hybrid", "gated_mlp", "quantization", "dtype", "tokenizer_mb", "weights_bytes", "weights_gib",
  "expert_weights_bytes", "active_weights_gib", "weights_source", "weight_files", "weights_cached_fraction",
  "load_format", "tensor_parallel_size", "pipeline_parallel_size", "data_parallel_size", "enforce_eager",
  "compile_level", "compile_enabled", "cuda_graphs_enabled", "cuda_graph_sizes", "max_num_seqs", "compile_cache",
];

export function sanitizeFeatures(f: Partial<Features> | null | undefined): Partial<Features> | null {
  if (!f || typeof f !== "object") return null;
  const out: Record<string, unknown> = {};
  for (const k of KEPT_FEATURES) if (k in f) out[k] = (f as Record<string, unknown>)[k];
  // a local model path is reduced to its last component
  if (typeof out.model === "string" && (out.model.startsWith("/") || out.model.startsWith(".") || out.model.includes("\\"))) {
    out.model = out.model.split(/[\\/]/).filter(Boolean).pop() ?? null;
  }
  // The model may be a URL with credentials (or echo a token): the one redaction rule applies here too.
  return redactDeep(out) as Partial<Features>;
}

export class History {
  private db: Database | null = null;
  readonly path: string;

  constructor(stateDir: string = defaultStateDir()) {
    this.path = join(stateDir, "history.sqlite");
    try {
      mkdirSync(stateDir, { recursive: true });
      this.db = new Database(this.path, { create: true });
      this.db.exec("PRAGMA journal_mode = WAL");
      this.db.exec(`CREATE TABLE IF NOT EXISTS runs (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        recorded_at TEXT NOT NULL,
        trace_id TEXT,
        engine_version TEXT,
        outcome TEXT NOT NULL,
        features TEXT,
        phases TEXT NOT NULL,
        predicted TEXT NOT NULL
      )`);
      this.db.exec("CREATE UNIQUE INDEX IF NOT EXISTS runs_trace ON runs(trace_id) WHERE trace_id IS NOT NULL");
      // fleet key (./fleet.ts): added in place to histories written before it existed
      const cols = (this.db.query("PRAGMA table_info(runs)").all() as { name: string }[]).map((c) => c.name);
      if (!cols.includes("fleet_key")) this.db.exec("ALTER TABLE runs ADD COLUMN fleet_key TEXT");
    } catch (e) {
      console.warn(`startup-tracer: history disabled (${this.path}): ${(e as Error).message}`);
      this.db = null;
    }
  }

  /** Store a finished start-up (summary JSON, schema startup-tracer.summary/v1). Returns the row id, or null. */
  recordStartup(summaryJson: unknown, features: Partial<Features> | null, fleetKey: string | null = null): number | null {
    if (!this.db) return null;
    try {
      const s = typeof summaryJson === "string" ? JSON.parse(summaryJson) : summaryJson;
      if (!s || typeof s !== "object" || (s as any).schema !== "startup-tracer.summary/v1") {
        console.warn("startup-tracer: history: not a startup-tracer.summary/v1 document, not stored");
        return null;
      }
      const sum = s as any;
      const phases: Record<string, number> = {};
      const predicted: Record<string, number | null> = {};
      for (const ph of Array.isArray(sum.phases) ? sum.phases : []) {
        if (!ph || typeof ph.name !== "string") continue;
        if (typeof ph.predicted_s === "number") predicted[ph.name] = ph.predicted_s;
        if (ph.status !== "ok" || typeof ph.duration_s !== "number" || !Number.isFinite(ph.duration_s)) continue;
        phases[ph.name] = (phases[ph.name] ?? 0) + ph.duration_s;
      }
      const traceId = typeof sum.trace_id === "string" && /^[0-9a-f]{32}$/i.test(sum.trace_id) ? sum.trace_id.toLowerCase() : null;
      const res = this.db.query(
        `INSERT OR REPLACE INTO runs (recorded_at, trace_id, engine_version, outcome, features, phases, predicted, fleet_key)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      ).run(
        new Date().toISOString(), traceId,
        typeof sum.engine_version === "string" ? sum.engine_version : null,
        typeof sum.outcome === "string" ? sum.outcome : "incomplete",
        JSON.stringify(sanitizeFeatures(features)), JSON.stringify(phases), JSON.stringify(predicted),
        fleetKey ? String(redactDeep(fleetKey)) : null,
      );
      return Number(res.lastInsertRowid);
    } catch (e) {
      console.warn(`startup-tracer: history: cannot record start-up: ${(e as Error).message}`);
      return null;
    }
  }

  /** All stored runs, oldest first. Only `ready` runs by default (a failed start-up's phases are not a duration sample). */
  listRuns(opts: { outcome?: string | null; limit?: number } = {}): HistoryRun[] {
    if (!this.db) return [];
    try {
      const outcome = opts.outcome === undefined ? "ready" : opts.outcome;
      const rows = (outcome
        ? this.db.query("SELECT * FROM runs WHERE outcome = ? ORDER BY id").all(outcome)
        : this.db.query("SELECT * FROM runs ORDER BY id").all()) as any[];
      const runs = rows.map((r) => ({
        id: r.id, recorded_at: r.recorded_at, trace_id: r.trace_id, engine_version: r.engine_version, outcome: r.outcome,
        features: safeParse(r.features), phases: safeParse(r.phases) ?? {}, predicted: safeParse(r.predicted) ?? {}, source: "local" as const,
      }));
      return opts.limit ? runs.slice(-opts.limit) : runs;
    } catch (e) {
      console.warn(`startup-tracer: history: cannot list runs: ${(e as Error).message}`);
      return [];
    }
  }

  /**
   * The phases a fleet key took, per phase the median of its last `last` ready
   * runs (null when the key was never seen). A second start-up of the same key
   * is predicted from these.
   */
  phasesForKey(key: string, last = 3): Record<string, number> | null {
    if (!this.db || !key) return null;
    try {
      const rows = this.db.query("SELECT phases FROM runs WHERE fleet_key = ? AND outcome = 'ready' ORDER BY id DESC LIMIT ?").all(key, last) as { phases: string }[];
      if (!rows.length) return null;
      const per: Record<string, number[]> = {};
      for (const r of rows) for (const [k, v] of Object.entries(safeParse(r.phases) ?? {})) if (typeof v === "number") (per[k] ??= []).push(v);
      const out: Record<string, number> = {};
      for (const [k, vs] of Object.entries(per)) {
        const s = vs.sort((a, b) => a - b);
        out[k] = s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
      }
      return out;
    } catch (e) {
      console.warn(`startup-tracer: history: cannot read fleet key: ${(e as Error).message}`);
      return null;
    }
  }

  /** Stores runs read from a trace backend under their fleet keys (`fit --from-tempo/--from-jaeger`). Returns how many were new. */
  importFleetRuns(runs: { trace_id: string | null; engine_version: string | null; phases: Record<string, number>; predicted: Record<string, number | null>; fleet_key: string | null }[]): number {
    if (!this.db) return 0;
    let n = 0;
    for (const r of runs) {
      if (!r.fleet_key || !r.trace_id) continue;
      try {
        const res = this.db.query(`INSERT OR IGNORE INTO runs (recorded_at, trace_id, engine_version, outcome, features, phases, predicted, fleet_key)
          VALUES (?, ?, ?, 'ready', NULL, ?, ?, ?)`).run(new Date().toISOString(), r.trace_id.toLowerCase(), r.engine_version,
          JSON.stringify(r.phases), JSON.stringify(r.predicted), r.fleet_key);
        n += res.changes;
      } catch { /* a bad row is skipped */ }
    }
    return n;
  }

  close(): void {
    try { this.db?.close(); } catch { /* ignore */ }
    this.db = null;
  }
}

function safeParse(s: unknown): any {
  if (typeof s !== "string") return null;
  try { return JSON.parse(s); } catch { return null; }
}

/** Convenience wrappers over a state directory. */
export function recordStartup(stateDir: string, summaryJson: unknown, features: Partial<Features> | null): number | null {
  const h = new History(stateDir);
  try { return h.recordStartup(summaryJson, features); } finally { h.close(); }
}

export function listRuns(stateDir: string): HistoryRun[] {
  const h = new History(stateDir);
  try { return h.listRuns(); } finally { h.close(); }
}

/** Where locally refitted coefficients live (read by the daemon and `predict` when present). */
export function localCoefficientsPath(stateDir: string): string {
  return join(stateDir, "coefficients.json");
}
