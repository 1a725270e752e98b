// Planted secrets never reach any sink. The child gets secrets on its command
// line and in its environment, and echoes them in its log lines the way vLLM
// does (non-default args, model='...', an environment dump, a traceback whose
// exception text carries a token). Every place the tracer writes to is then
// searched for every planted value:
//   spans at a loopback OTLP receiver (attributes, events, resource attributes,
//   status messages; JSON and protobuf), the --summary-json file, the local
//   OTLP/JSON trace file, the console exporter, the spool file, the history store (raw bytes of the
//   sqlite file and its WAL), the HTTP API (/status, /metrics, /readyz, /,
//   /healthz), the tracer's own stderr lines and blame table, and the
//   Alertmanager and webhook payloads of a slow phase.
// The child's own output is passed through unchanged (it printed the secrets
// itself): stdout byte for byte, its stderr lines in order.
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { startReceiver, type ReceivedSpan } from "../helpers/otlp-receiver.ts";
import { ROOT, runTracer, tempStateDir, tracerCmd, freePort } from "../helpers/tracer.ts";

const CHILD = join(ROOT, "test", "fixtures", "children", "secret-vllm.ts");
const URL_SECRET = "https://user:PLANTEDpass33@host/x?token=PLANTED44";
const ARGV = ["serve", URL_SECRET, "--api-key", "sk-live-PLANTED1111111111", "--hf-token=hf_PLANTED2222222222222222",
  "--max-model-len", "8192"];
const SECRET_ENV: Record<string, string> = {
  HF_TOKEN: "hf_PLANTED5555555555555555",
  HUGGING_FACE_HUB_TOKEN: "PLANTED77hubtoken",
  FOO_API_KEY: "PLANTED88fooapikey",
  MY_SECRET_VALUE: "PLANTED99mysecret",
  GITHUB_TOKEN_X: "PLANTEDaaGithubToken",
  OTEL_EXPORTER_OTLP_HEADERS: "authorization=Bearer PLANTED66bearertoken",
  OTEL_RESOURCE_ATTRIBUTES: "deployment.environment=test,auth.token=PLANTEDbbResourceToken",
};
/** Every planted value (and the parts that are secret on their own). */
const PLANTED = ["sk-live-PLANTED1111111111", "hf_PLANTED2222222222222222", "PLANTEDpass33", "PLANTED44",
  "hf_PLANTED5555555555555555", "PLANTED77hubtoken", "PLANTED88fooapikey", "PLANTED99mysecret", "PLANTEDaaGithubToken",
  "PLANTED66bearertoken", "PLANTEDbbResourceToken"];

const cleanups: (() => void)[] = [];
afterAll(() => cleanups.forEach((f) => f()));

/** Fails naming the sink and the value when any planted value (or the marker PLANTED) is in `text`. */
function expectClean(sink: string, text: string): void {
  const found = PLANTED.filter((v) => text.includes(v));
  if (!found.length && text.includes("PLANTED")) found.push(`PLANTED…${text.slice(text.indexOf("PLANTED"), text.indexOf("PLANTED") + 40)}`);
  expect({ sink, leaked: found }).toEqual({ sink, leaked: [] });
}

/** An environment for Bun.spawn: undefined removes a variable. */
function spawnEnv(e: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(Object.entries(e).filter(([, v]) => v !== undefined)) as Record<string, string>;
}

/** Everything a received span carries, as one searchable text. */
function spanText(spans: ReceivedSpan[]): string {
  return JSON.stringify(spans, (_k, v) => (typeof v === "bigint" ? v.toString() : v));
}

/** The tracer's own stderr lines: its stderr minus the lines the child printed (which must all be there, in order). */
function ownStderr(err: string, childErr: string): string[] {
  const childLines = childErr.split("\n").filter(Boolean);
  const own: string[] = [];
  let next = 0;
  for (const line of err.split("\n")) {
    if (next < childLines.length && line === childLines[next]) next++;
    else if (line) own.push(line);
  }
  expect(next).toBe(childLines.length); // the child's stderr went through unchanged
  return own;
}

interface Run {
  code: number;
  out: Uint8Array;
  err: string;
  childOut: string;
  childErr: string;
  api: Record<string, string>;
}

/** Runs the tracer around the secret child; with `listen`, reads the API while the child stays up, then SIGTERMs. */
async function runSecretChild(opts: { args: string[]; env?: Record<string, string | undefined>; mode: "ready" | "fail"; listen?: number; loadMs?: number }): Promise<Run> {
  const state = tempStateDir();
  const record = join(state, "child-stderr.txt");
  const hold = opts.listen !== undefined;
  const proc = Bun.spawn([...tracerCmd(), ...opts.args, "--", process.execPath, CHILD, ...ARGV], {
    env: spawnEnv({
      ...process.env, NO_COLOR: "1", OTEL_EXPORTER_OTLP_ENDPOINT: undefined, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: undefined,
      ...SECRET_ENV, ST_CHILD_MODE: opts.mode, ST_CHILD_RECORD: record, ST_CHILD_HOLD: hold ? "1" : "0",
      ST_CHILD_LOAD_MS: String(opts.loadMs ?? 300), ...opts.env,
    }),
    stdout: "pipe", stderr: "pipe", stdin: "ignore",
  });
  const killer = setTimeout(() => proc.kill("SIGKILL"), 30_000);
  const outP = new Response(proc.stdout).bytes();
  const errP = new Response(proc.stderr).text();
  const api: Record<string, string> = {};
  if (hold) {
    const base = `http://127.0.0.1:${opts.listen}`;
    let ready = false;
    for (let i = 0; i < 200 && !ready; i++) {
      await Bun.sleep(50);
      ready = await fetch(`${base}/readyz`).then((r) => r.status === 200).catch(() => false);
    }
    expect(ready).toBe(true);
    await Bun.sleep(300); // the alert resolve and history write follow readiness
    for (const path of ["/status", "/metrics", "/readyz", "/", "/healthz"]) api[path] = await (await fetch(base + path)).text();
    proc.kill("SIGTERM");
  }
  const [out, err] = await Promise.all([outP, errP]);
  const code = await proc.exited;
  clearTimeout(killer);
  // What the child printed on stdout is what we got (passthrough), byte for byte.
  const childOut = readFileSync(`${record}.out`, "utf8");
  expect(Buffer.from(out).equals(Buffer.from(childOut))).toBe(true);
  return { code, out, err, childOut, childErr: existsSync(record) ? readFileSync(record, "utf8") : "", api };
}

describe("planted secrets reach no sink", () => {
  for (const protocol of ["http/json", "http/protobuf"] as const) {
    test(`ready start-up, ${protocol}: spans, summary, history, HTTP API, alerts, own stderr`, async () => {
      const rx = startReceiver();
      const posts: { path: string; body: string }[] = [];
      const alerts = Bun.serve({
        hostname: "127.0.0.1", port: 0,
        async fetch(req) {
          posts.push({ path: new URL(req.url).pathname, body: await req.text() });
          return Response.json({ status: "success" });
        },
      });
      cleanups.push(() => rx.stop(), () => alerts.stop(true));
      const state = tempStateDir();
      const summary = join(state, "summary.json");
      const port = freePort();
      const r = await runSecretChild({
        mode: "ready", listen: port, loadMs: 1200,
        env: { OTEL_EXPORTER_OTLP_PROTOCOL: protocol },
        args: ["--otlp-endpoint", rx.url, "--state-dir", state, "--summary-json", summary, "--listen", `127.0.0.1:${port}`,
          "--budget", "model_loading=0.3s", "--alertmanager-url", `http://127.0.0.1:${alerts.port}`,
          "--alert-webhook", `http://127.0.0.1:${alerts.port}/hook`, "--sample-interval", "100"],
      });
      expect(r.code).toBe(0);
      // The child's own output still has its secrets: passthrough is not redacted.
      expect(r.childOut).toContain("sk-live-PLANTED1111111111");
      expect(r.childErr).toContain("PLANTED88fooapikey");

      // Spans at the receiver (the header was sent as configured, it is not a sink).
      const spans = await rx.waitForSpans(8);
      expect(rx.requests[0].contentType).toContain(protocol === "http/json" ? "json" : "protobuf");
      expect(rx.requests[0].headers.authorization).toBe("Bearer PLANTED66bearertoken");
      const root = spans.find((s) => s.name === "vllm.startup")!;
      expect(root.attributes["vllm.startup.outcome"]).toBe("ready");
      expect(root.attributes["vllm.startup.model"]).toBe("https://[REDACTED]@host/x?token=[REDACTED]");
      expect(root.resource["deployment.environment"]).toBe("test");
      expect(spans.find((s) => s.name === "model_loading")!.events.map((e) => e.name)).toContain("vllm.startup.slow_phase");
      expectClean("spans", spanText(spans));

      // The summary JSON.
      expectClean("summary", readFileSync(summary, "utf8"));
      // The history store: the raw bytes of the database and its write-ahead log.
      const db = join(state, "history.sqlite");
      expect(existsSync(db)).toBe(true);
      for (const f of readdirSync(state).filter((x) => x.startsWith("history.sqlite"))) {
        expectClean(`history ${f}`, readFileSync(join(state, f)).toString("latin1"));
      }
      // The HTTP API while the server was up.
      expect(JSON.parse(r.api["/status"]).outcome).toBe("ready");
      expect(r.api["/metrics"]).toContain("vllm_startup");
      for (const [path, body] of Object.entries(r.api)) expectClean(`API ${path}`, body);
      // Alert payloads: the phase was slow, so both receivers got fire and resolve.
      expect(posts.some((p) => p.path === "/api/v2/alerts")).toBe(true);
      expect(posts.some((p) => p.path === "/hook")).toBe(true);
      for (const p of posts) expectClean(`alert ${p.path}`, p.body);
      // The tracer's own stderr lines (warnings, the slow-phase line, the blame table).
      const own = ownStderr(r.err, r.childErr);
      expect(own.join("\n")).toContain("phase model_loading is slow");
      expect(own.join("\n")).toContain("outcome: ready");
      expectClean("own stderr", own.join("\n"));
    }, 30_000);

    test(`failed start-up with a token in the traceback, ${protocol}: status messages, exception events, summary error`, async () => {
      const rx = startReceiver();
      cleanups.push(() => rx.stop());
      const state = tempStateDir();
      const summary = join(state, "summary.json");
      const r = await runSecretChild({
        mode: "fail", env: { OTEL_EXPORTER_OTLP_PROTOCOL: protocol },
        args: ["--otlp-endpoint", rx.url, "--state-dir", state, "--summary-json", summary, "--exit-timeout", "2"],
      });
      expect(r.code).toBe(1);
      expect(r.childErr).toContain("HfHubHTTPError");
      const spans = await rx.waitForSpans(3);
      const root = spans.find((s) => s.name === "vllm.startup")!;
      expect(root.attributes["vllm.startup.outcome"]).toBe("failed");
      expect(root.status.code).toBe(2);
      // The error text is kept, minus the secrets.
      expect(String(root.status.message)).toContain("HfHubHTTPError");
      expect(String(root.status.message)).toContain("[REDACTED]");
      const failed = spans.filter((s) => s.status.code === 2 && s.name !== "vllm.startup");
      expect(failed.length).toBeGreaterThan(0);
      expect(failed[0].events.map((e) => e.name)).toContain("exception");
      expectClean("spans", spanText(spans));
      const sum = readFileSync(summary, "utf8");
      expect(JSON.parse(sum).outcome).toBe("failed");
      expect(JSON.parse(sum).error).toContain("HfHubHTTPError");
      expectClean("summary", sum);
      for (const f of readdirSync(state).filter((x) => x.startsWith("history.sqlite"))) {
        expectClean(`history ${f}`, readFileSync(join(state, f)).toString("latin1"));
      }
      const own = ownStderr(r.err, r.childErr);
      expect(own.join("\n")).toContain("outcome: failed");
      expectClean("own stderr", own.join("\n"));
    }, 30_000);
  }

  test("no endpoint: the local OTLP/JSON trace file", async () => {
    const state = tempStateDir();
    const r = await runSecretChild({ mode: "fail", args: ["--state-dir", state, "--no-history", "--exit-timeout", "2"] });
    expect(r.code).toBe(1);
    const m = /written to (\S+\.otlp\.json)/.exec(r.err);
    expect(m).not.toBeNull();
    const file = readFileSync(m![1], "utf8");
    expect(file).toContain("HfHubHTTPError");
    expectClean("trace file", file);
    expectClean("own stderr", ownStderr(r.err, r.childErr).join("\n"));
  }, 20_000);

  test("OTEL_TRACES_EXPORTER=console: the trace printed on stderr", async () => {
    const state = tempStateDir();
    const r = await runSecretChild({ mode: "fail", env: { OTEL_TRACES_EXPORTER: "console" }, args: ["--state-dir", state, "--no-history", "--exit-timeout", "2"] });
    expect(r.code).toBe(1);
    const own = ownStderr(r.err, r.childErr).join("\n");
    expect(own).toContain("resourceSpans");
    expect(own).toContain("HfHubHTTPError");
    expectClean("console exporter", own);
  }, 20_000);

  test("dead endpoint: the spool file and its metadata", async () => {
    const state = tempStateDir();
    const port = freePort();
    const r = await runSecretChild({
      mode: "ready", env: { OTEL_EXPORTER_OTLP_PROTOCOL: "http/json" },
      args: ["--otlp-endpoint", `http://127.0.0.1:${port}`, "--state-dir", state, "--no-history", "--exit-timeout", "1"],
    });
    expect(r.code).toBe(0);
    expect(r.err).toContain("spooled");
    const files = readdirSync(join(state, "spool"));
    expect(files.some((f) => f.endsWith(".otlp"))).toBe(true);
    for (const f of files) {
      const body = readFileSync(join(state, "spool", f), "utf8");
      if (f.endsWith(".otlp")) expect(body).toContain("vllm.startup");
      expectClean(`spool ${f}`, body);
    }
    expectClean("own stderr", ownStderr(r.err, r.childErr).join("\n"));
  }, 20_000);

  test("the child's stdout is passed through byte for byte, secrets included (--quiet)", async () => {
    const state = tempStateDir();
    const r = await runSecretChild({ mode: "ready", args: ["--state-dir", state, "--no-history", "--quiet"] });
    expect(r.code).toBe(0);
    const lines = r.childOut.split("\n");
    expect(lines.find((l) => l.includes("non-default args"))).toContain(
      "'api_key': ['sk-live-PLANTED1111111111'], 'hf_token': 'hf_PLANTED2222222222222222'");
    expect(lines.find((l) => l.includes("with config: model="))).toContain(`model='${URL_SECRET}'`);
  }, 20_000);
  test("nothing to learn from (import of a log): secrets are still recognised by their shape", async () => {
    // A sidecar or an import knows neither the command line nor vLLM's environment:
    // the list form of api_key, a Namespace repr, bearer tokens and URL credentials
    // in an exception text must go by shape alone.
    const state = tempStateDir();
    const log = join(state, "vllm.log");
    writeFileSync(log, [
      "INFO 01-23 15:48:28 [__init__.py:216] Automatically detected platform cuda.",
      "(APIServer pid=1) INFO 01-23 15:48:29 [api_server.py:1842] vLLM API server version 0.11.0",
      "(APIServer pid=1) INFO 01-23 15:48:29 [utils.py:233] non-default args: {'model_tag': '/models/m', 'api_key': ['PLANTEDccOpaqueKey'], 'model': '/models/m'}",
      "(EngineCore_DP0 pid=164) INFO 01-23 15:48:36 [core.py:77] Initializing a V1 LLM engine (v0.11.0) with config: model='/models/m', tokenizer='/models/m'",
      "(EngineCore_DP0 pid=164) INFO 01-23 15:48:47 [gpu_model_runner.py:2602] Starting to load model /models/m...",
      "(EngineCore_DP0 pid=164) ERROR 01-23 15:48:50 [core.py:708] EngineCore failed to start.",
      "(EngineCore_DP0 pid=164) ERROR 01-23 15:48:50 [core.py:708] Traceback (most recent call last):",
      "(EngineCore_DP0 pid=164) ERROR 01-23 15:48:50 [core.py:708]   File \"/usr/lib/python3/site-packages/vllm/engine/arg_utils.py\", line 1, in create_engine_config",
      "(EngineCore_DP0 pid=164) ERROR 01-23 15:48:50 [core.py:708] ValueError: bad engine args Namespace(api_key=['PLANTEDccOpaqueKey', 'PLANTEDffSecond'], " +
        "hf_token='PLANTEDddOpaqueHf', password=\"PLANTEDggPw\") Authorization: Bearer PLANTEDeeBearerTok url https://u:PLANTEDhhPass@h/x?api_key=PLANTEDii",
      "",
    ].join("\n"));
    const summary = join(state, "s.json");
    const env: Record<string, undefined> = { OTEL_EXPORTER_OTLP_ENDPOINT: undefined, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: undefined };
    for (const k of Object.keys(process.env)) if (/TOKEN|KEY|SECRET|HEADERS/.test(k)) env[k] = undefined;
    const r = await runTracer(["import", log, "--state-dir", state, "--summary-json", summary], { env });
    expect(r.code).toBe(0);
    const sum = readFileSync(summary, "utf8");
    expect(JSON.parse(sum).error).toContain("ValueError: bad engine args");
    expectClean("summary", sum);
    const m = /written to (\S+\.otlp\.json)/.exec(r.err);
    expect(m).not.toBeNull();
    expectClean("trace file", readFileSync(m![1], "utf8"));
    for (const f of readdirSync(state).filter((x) => x.startsWith("history.sqlite"))) {
      expectClean(`history ${f}`, readFileSync(join(state, f)).toString("latin1"));
    }
    expectClean("stderr", r.err);
  }, 20_000);
});
