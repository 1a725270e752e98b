// Malformed configuration never harms the child: every bad OTEL_* variable,
// --budget, --model, --otlp-endpoint and --listen value gets one warning line
// naming the variable or option (never a header's secret value), and in wrap
// mode the child starts at once, its output and its exit status unchanged.
import { describe, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runTracer, tempStateDir, freePort } from "../helpers/tracer.ts";

// The child prints when it started (ms since the epoch), a line on each stream, and exits 7 at
// once: the warnings of the lazily loaded live features (prediction, budgets) still come.
const CHILD = ["sh", "-c", `echo "started $(date +%s%3N)"; echo child-out-line; echo child-err-line >&2; exit 7`];
const NO_ENDPOINT = { OTEL_EXPORTER_OTLP_ENDPOINT: undefined, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: undefined, OTEL_EXPORTER_OTLP_HEADERS: undefined,
  OTEL_RESOURCE_ATTRIBUTES: undefined, OTEL_EXPORTER_OTLP_PROTOCOL: undefined, OTEL_EXPORTER_OTLP_TIMEOUT: undefined };

/** Runs the tracer around CHILD and checks what must hold whatever the configuration. */
async function wrapWith(args: string[], env: Record<string, string | undefined> = {}) {
  const t0 = Date.now();
  const r = await runTracer([...args, "--", ...CHILD], { env: { ...NO_ENDPOINT, ...env }, timeoutMs: 15_000 });
  expect(r.code).toBe(7);
  const m = /^started (\d+)\nchild-out-line\n$/.exec(r.out);
  expect(m).not.toBeNull(); // stdout exactly what the child printed
  // At once: the child ran before any of the tracer's set-up (generous for a loaded 2-core machine).
  expect(Number(m![1]) - t0).toBeLessThan(3000);
  const errLines = r.err.split("\n");
  expect(errLines).toContain("child-err-line");
  expect(r.err).not.toMatch(/internal error|\n\s+at |TypeError|RangeError/);
  const warnings = errLines.filter((l) => l.startsWith("startup-tracer: warning:"));
  return { r, warnings };
}

function expectOneWarning(warnings: string[], names: string): string {
  const hits = warnings.filter((w) => w.includes(names));
  expect(hits).toHaveLength(1);
  return hits[0];
}

describe("malformed OpenTelemetry variables", () => {
  const cases: [string, Record<string, string>, string][] = [
    ["OTEL_EXPORTER_OTLP_ENDPOINT not a URL", { OTEL_EXPORTER_OTLP_ENDPOINT: "not a url" }, "OTEL_EXPORTER_OTLP_ENDPOINT"],
    ["OTEL_EXPORTER_OTLP_ENDPOINT with credentials, unparsable", { OTEL_EXPORTER_OTLP_ENDPOINT: "http://user:PLANTEDpw1234@[bad" }, "OTEL_EXPORTER_OTLP_ENDPOINT"],
    ["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT not a URL", { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "collector:4318" }, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"],
    ["OTEL_EXPORTER_OTLP_HEADERS without =", { OTEL_EXPORTER_OTLP_HEADERS: "authorization Bearer PLANTEDhdr123456" }, "OTEL_EXPORTER_OTLP_HEADERS"],
    ["OTEL_EXPORTER_OTLP_HEADERS bad percent-encoding", { OTEL_EXPORTER_OTLP_HEADERS: "authorization=Bearer%ZZPLANTEDhdr654321" }, "OTEL_EXPORTER_OTLP_HEADERS"],
    ["OTEL_RESOURCE_ATTRIBUTES bad percent-encoding", { OTEL_RESOURCE_ATTRIBUTES: "service.namespace=a%ZZb,team=x" }, "OTEL_RESOURCE_ATTRIBUTES"],
    // gRPC is supported; its endpoint may be a URL or host:port, never anything else.
    ["OTEL_EXPORTER_OTLP_PROTOCOL=grpc, endpoint neither URL nor host:port", { OTEL_EXPORTER_OTLP_PROTOCOL: "grpc", OTEL_EXPORTER_OTLP_ENDPOINT: "not a url" }, "OTEL_EXPORTER_OTLP_ENDPOINT"],
    ["OTEL_EXPORTER_OTLP_PROTOCOL=bogus", { OTEL_EXPORTER_OTLP_PROTOCOL: "bogus" }, "OTEL_EXPORTER_OTLP_PROTOCOL=bogus"],
    ["OTEL_EXPORTER_OTLP_TIMEOUT=abc", { OTEL_EXPORTER_OTLP_TIMEOUT: "abc" }, "OTEL_EXPORTER_OTLP_TIMEOUT=abc"],
    ["OTEL_EXPORTER_OTLP_TRACES_TIMEOUT=-1", { OTEL_EXPORTER_OTLP_TRACES_TIMEOUT: "-1" }, "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT=-1"],
  ];
  for (const [title, env, name] of cases) {
    test(title, async () => {
      const { r, warnings } = await wrapWith(["--state-dir", tempStateDir(), "--no-history"], env);
      expectOneWarning(warnings, name);
      expect(r.err).not.toContain("PLANTED"); // a header's or a URL's secret is never shown
      // The trace is still made: with no usable endpoint, a local file.
      expect(r.err).toMatch(/written to \S+\.otlp\.json|sent to|spooled/);
    }, 20_000);
  }
});

describe("malformed options", () => {
  for (const spec of ["load_weights=fast", "nonsense", "=5s", "model_loading=-3s"]) {
    test(`--budget ${spec}`, async () => {
      const { warnings } = await wrapWith(["--state-dir", tempStateDir(), "--no-history", "--budget", spec, "--budget", "total=1h"]);
      const w = expectOneWarning(warnings, "--budget");
      expect(w).toContain(JSON.stringify(spec));
    }, 20_000);
  }

  test("--model that is a file, a directory with a broken config.json, a path that does not exist", async () => {
    const base = tempStateDir();
    const file = join(base, "weights.bin");
    writeFileSync(file, "not a model");
    const dir = join(base, "model");
    mkdirSync(dir);
    writeFileSync(join(dir, "config.json"), "{ broken json");
    for (const model of [file, dir, join(base, "missing")]) {
      const { warnings } = await wrapWith(["--state-dir", tempStateDir(), "--no-history", "--model", model]);
      const w = expectOneWarning(warnings, "--model");
      expect(w).toContain(model);
    }
  }, 30_000);

  for (const [opt, value] of [["--sample-interval", "fast"], ["--exit-timeout", "soon"], ["--compile-cache", "lukewarm"], ["--slow-factor", ""]]) {
    test(`${opt} ${JSON.stringify(value)}: the child still starts, one warning`, async () => {
      const { warnings } = await wrapWith(["--state-dir", tempStateDir(), "--no-history", opt, value]);
      const w = expectOneWarning(warnings, opt);
      expect(w).toContain(`'${value}'`);
    }, 20_000);
  }

  test("--otlp-endpoint ftp://x", async () => {
    const { warnings, r } = await wrapWith(["--state-dir", tempStateDir(), "--no-history", "--otlp-endpoint", "ftp://x"]);
    expect(expectOneWarning(warnings, "--otlp-endpoint")).toContain("ftp://x");
    expect(r.err).toMatch(/written to \S+\.otlp\.json/);
  }, 20_000);
});

/** An environment for Bun.spawn: undefined removes a variable. */
function spawnEnv(e: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(Object.entries(e).filter(([, v]) => v !== undefined)) as Record<string, string>;
}

/** A child that stays up until SIGTERM, so the API can be probed; returns its exit and the tracer's stderr. */
async function withLongChild(args: string[], probe: (port: number) => Promise<void>) {
  const port = freePort();
  const { tracerCmd } = await import("../helpers/tracer.ts");
  const proc = Bun.spawn([...tracerCmd(), "--state-dir", tempStateDir(), "--no-history", ...args.map((a) => a.replace("PORT", String(port))), "--",
    "sh", "-c", `trap 'echo child-term; exit 0' TERM; echo child-up; while :; do sleep 0.05; done`], {
    stdout: "pipe", stderr: "pipe", env: spawnEnv({ ...process.env, ...NO_ENDPOINT, NO_COLOR: "1" }),
  });
  const killer = setTimeout(() => proc.kill("SIGKILL"), 20_000);
  const outP = new Response(proc.stdout).text();
  const errP = new Response(proc.stderr).text();
  await Bun.sleep(150);
  await probe(port);
  proc.kill("SIGTERM");
  const [out, err] = await Promise.all([outP, errP]);
  const code = await proc.exited;
  clearTimeout(killer);
  return { code, out, err, port };
}

async function waitHealthy(url: string): Promise<boolean> {
  for (let i = 0; i < 100; i++) {
    if (await fetch(url).then((r) => r.ok).catch(() => false)) return true;
    await Bun.sleep(50);
  }
  return false;
}

describe("--listen on a non-loopback address", () => {
  test("without a token: one error line, no API, the child unaffected", async () => {
    let reachable = true;
    const r = await withLongChild(["--listen", "0.0.0.0:PORT"], async (port) => {
      await Bun.sleep(1500); // the API would be up long before this
      reachable = await fetch(`http://127.0.0.1:${port}/healthz`).then(() => true).catch(() => false);
    });
    expect(reachable).toBe(false);
    expect(r.code).toBe(0);
    expect(r.out).toBe("child-up\nchild-term\n");
    const lines = r.err.split("\n").filter((l) => l.includes("0.0.0.0"));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^startup-tracer: warning: HTTP API not started: refusing to listen on non-loopback address 0\.0\.0\.0:\d+/);
  }, 20_000);

  test("with --insecure-listen: served", async () => {
    let status = 0;
    const r = await withLongChild(["--listen", "0.0.0.0:PORT", "--insecure-listen"], async (port) => {
      expect(await waitHealthy(`http://127.0.0.1:${port}/healthz`)).toBe(true);
      status = (await fetch(`http://127.0.0.1:${port}/status`)).status;
    });
    expect(status).toBe(200);
    expect(r.code).toBe(0);
    expect(r.out).toBe("child-up\nchild-term\n");
    expect(r.err).not.toContain("HTTP API not started");
  }, 20_000);

  test("with --api-token: /status needs the bearer token, /healthz and /readyz are open", async () => {
    const token = "PLANTEDapiToken-0123456789";
    const got: Record<string, number> = {};
    const r = await withLongChild(["--listen", "0.0.0.0:PORT", "--api-token", token], async (port) => {
      const base = `http://127.0.0.1:${port}`;
      expect(await waitHealthy(`${base}/healthz`)).toBe(true);
      got.healthz = (await fetch(`${base}/healthz`)).status;
      got.readyz = (await fetch(`${base}/readyz`)).status; // 503 until ready: open, not 401
      got.statusNoToken = (await fetch(`${base}/status`)).status;
      got.statusBadToken = (await fetch(`${base}/status`, { headers: { authorization: "Bearer wrong" } })).status;
      got.metricsNoToken = (await fetch(`${base}/metrics`)).status;
      got.statusToken = (await fetch(`${base}/status`, { headers: { authorization: `Bearer ${token}` } })).status;
    });
    expect(got).toEqual({ healthz: 200, readyz: 503, statusNoToken: 401, statusBadToken: 401, metricsNoToken: 401, statusToken: 200 });
    expect(r.code).toBe(0);
    expect(r.out).toBe("child-up\nchild-term\n");
    expect(r.err).not.toContain(token);
  }, 20_000);
});
