// Fleet memory in the history: keyed runs, the median of the last runs of a key,
// an old history gaining the key column in place, and a fleet's keyed traces
// brought in by `fit --from-jaeger` (a loopback fake of Jaeger's query API).
import { afterAll, beforeAll, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { History } from "../../src/predict/history.ts";
import { fleetKey } from "../../src/predict/fleet.ts";
import { run as fitCmd } from "../../src/cli/commands/fit.ts";

const tmp = () => mkdtempSync(join(tmpdir(), "st-fleet-"));
const summary = (trace: string, phases: Record<string, number>) => ({
  schema: "startup-tracer.summary/v1", outcome: "ready", trace_id: trace, engine_version: "0.11.0",
  phases: Object.entries(phases).map(([name, d]) => ({ name, parent: null, start_s: 0, duration_s: d, status: "ok", predicted_s: null, attributes: {} })),
});
const KEY = fleetKey({ model: "/models/mistral-7b", gpu: "GB10", vllm_version: "0.11.0", engine: "v1", cuda_graph_sizes: 67, quantization: "gptq" });

test("phasesForKey: median of the key's last three ready runs; other keys and unknown keys apart", () => {
  const h = new History(tmp());
  try {
    for (const [i, d] of [[1, 30], [2, 20], [3, 22], [4, 24]] as const) h.recordStartup(summary(`${"a".repeat(31)}${i}`, { model_loading: d, bootstrap: 19 }), null, KEY);
    h.recordStartup(summary("b".repeat(32), { model_loading: 99 }), null, "another key");
    const p = h.phasesForKey(KEY)!;
    expect(p.model_loading).toBe(22); // median of 20, 22, 24 (the oldest run, 30, is beyond the last three)
    expect(p.bootstrap).toBe(19);
    expect(h.phasesForKey("never seen")).toBeNull();
  } finally { h.close(); }
});

test("a history written before fleet keys gains the column in place and keeps its runs", () => {
  const dir = tmp();
  const db = new Database(join(dir, "history.sqlite"), { create: true });
  db.exec(`CREATE TABLE runs (id INTEGER PRIMARY KEY AUTOINCREMENT, recorded_at TEXT NOT NULL, trace_id TEXT, engine_version TEXT,
    outcome TEXT NOT NULL, features TEXT, phases TEXT NOT NULL, predicted TEXT NOT NULL)`);
  db.query("INSERT INTO runs (recorded_at, outcome, phases, predicted) VALUES ('x', 'ready', '{\"bootstrap\":8}', '{}')").run();
  db.close();
  const h = new History(dir);
  try {
    expect(h.listRuns()).toHaveLength(1);
    h.recordStartup(summary("c".repeat(32), { bootstrap: 9 }), null, KEY);
    expect(h.phasesForKey(KEY)!.bootstrap).toBe(9);
  } finally { h.close(); }
});

let server: ReturnType<typeof Bun.serve>;
const tid = "1af7651916cd43dd8448eb211c80319c";
beforeAll(() => {
  server = Bun.serve({
    port: 0, hostname: "127.0.0.1",
    fetch(req) {
      const u = new URL(req.url);
      if (u.pathname === "/api/traces" && u.searchParams.get("service") === "startup-tracer") {
        return Response.json({ data: [{ traceID: tid, processes: { p1: { serviceName: "startup-tracer", tags: [] } }, spans: [
          { operationName: "vllm.startup", startTime: 1700000000000000, duration: 124000000, processID: "p1", tags: [{ key: "vllm.startup.fleet", type: "string", value: KEY }] },
          { operationName: "bootstrap", startTime: 1700000000000000, duration: 19000000, processID: "p1", tags: [{ key: "vllm.startup.phase.duration_s", type: "float64", value: 19.38 }] },
          { operationName: "kv_cache_profiling", startTime: 1700000060000000, duration: 44000000, processID: "p1", tags: [] },
        ] }] });
      }
      return new Response("not found", { status: 404 });
    },
  });
});
afterAll(() => server.stop(true));

test("fit --from-jaeger brings a fleet's keys in: the key's phases are then known on this host", async () => {
  const dir = tmp();
  const w = process.stdout.write.bind(process.stdout);
  const out: string[] = [];
  (process.stdout as any).write = (s: string) => { out.push(s); return true; };
  let code: number;
  try { code = await fitCmd(["--state-dir", dir, "--from-jaeger", `http://127.0.0.1:${server.port}`, "--json"]); } finally { (process.stdout as any).write = w; }
  expect(code).toBe(0);
  expect(JSON.parse(out.join("")).fleet_runs_added).toBe(1);
  const h = new History(dir);
  try {
    const p = h.phasesForKey(KEY)!;
    expect(p.bootstrap).toBe(19.38);
    expect(p.kv_cache_profiling).toBeCloseTo(44, 3);
  } finally { h.close(); }
});
