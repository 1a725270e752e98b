// Wrap mode end to end with real processes: replay as the child, spans at an
// OTLP/HTTP receiver on loopback (JSON and protobuf), exit status and signal
// forwarding, byte-exact passthrough, TRACEPARENT seen by the child.
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { startReceiver, type ReceivedSpan } from "../helpers/otlp-receiver.ts";
import { LOGS, ROOT, runTracer, tempStateDir, tracerCmd } from "../helpers/tracer.ts";
import { pieces } from "../fixtures/children/bytes.ts";

const receivers: ReturnType<typeof startReceiver>[] = [];
afterAll(() => receivers.forEach((r) => r.stop()));

const QWEN = join(LOGS, "paper-h100nvl", "v0.10.1.1-h100nvl-qwen-0.5b.log");
const BUN = process.execPath;
const replay = (log: string, speed = 50) => [...tracerCmd(), "replay", log, "--speed", String(speed), "--exit-when-done"];

function byName(spans: ReceivedSpan[]) {
  return Object.fromEntries(spans.map((s) => [s.name, s]));
}

describe("wrap mode exports the start-up to an OTLP/HTTP receiver", () => {
  for (const protocol of ["http/json", "http/protobuf"] as const) {
    test(`replay of a real log, ${protocol}`, async () => {
      const rx = startReceiver();
      receivers.push(rx);
      const state = tempStateDir();
      const summaryPath = join(state, "summary.json");
      // --time-scale: the 50x replay is traced on the recorded timeline, where vLLM's printed durations fit.
      const r = await runTracer(["--otlp-endpoint", rx.url, "--summary-json", summaryPath, "--state-dir", state, "--time-scale", "50", "--",
        "sh", "-c", `echo "TRACEPARENT=$TRACEPARENT"; exec "$@"`, "sh", ...replay(QWEN)],
      { env: { OTEL_EXPORTER_OTLP_PROTOCOL: protocol, OTEL_SERVICE_NAME: "st-test" } });
      expect(r.code).toBe(0);
      const spans = await rx.waitForSpans(10);
      expect(rx.requests[0].contentType).toContain(protocol === "http/json" ? "application/json" : "application/x-protobuf");
      const s = byName(spans);
      const root = s["vllm.startup"];
      expect(root).toBeDefined();
      expect(root.parentSpanId).toBe("");
      expect(root.resource["service.name"]).toBe("st-test");
      expect(root.attributes["vllm.startup.outcome"]).toBe("ready");
      expect(root.attributes["vllm.startup.engine.version"]).toBe("0.10.1.1");
      // The child saw a TRACEPARENT naming this trace and the root span.
      const tp = /TRACEPARENT=00-([0-9a-f]{32})-([0-9a-f]{16})-01/.exec(r.out);
      expect(tp).not.toBeNull();
      expect(tp![1]).toBe(root.traceId);
      expect(tp![2]).toBe(root.spanId);
      // Phases and sub-steps, with the durations vLLM printed.
      for (const name of ["bootstrap", "model_loading", "load_weights", "torch_compile", "dynamo_transform", "graph_compile",
        "kv_cache_profiling", "cuda_graph_capture"]) expect(s[name]).toBeDefined();
      expect(s["load_weights"].parentSpanId).toBe(s["model_loading"].spanId);
      expect(s["model_loading"].parentSpanId).toBe(root.spanId);
      expect(s["dynamo_transform"].parentSpanId).toBe(s["torch_compile"].spanId);
      expect(s["load_weights"].attributes["vllm.startup.phase.duration_s"]).toBe(1.71);
      expect(Number(s["load_weights"].endNs - s["load_weights"].startNs) / 1e9).toBeCloseTo(1.71, 3);
      expect(s["cuda_graph_capture"].attributes["vllm.startup.phase.duration_s"]).toBe(0.94);
      expect(s["graph_compile"].attributes["vllm.startup.compile_cache.hit"]).toBe(true);
      for (const sp of spans) expect(sp.traceId).toBe(root.traceId);
      // The summary matches the contract.
      const sum = JSON.parse(readFileSync(summaryPath, "utf8"));
      expect(sum.schema).toBe("startup-tracer.summary/v1");
      expect(sum.engine).toBe("vllm");
      expect(sum.engine_version).toBe("0.10.1.1");
      expect(sum.outcome).toBe("ready");
      expect(sum.trace_id).toBe(root.traceId);
      expect(typeof sum.ready_s).toBe("number");
      const lw = sum.phases.find((p: any) => p.name === "load_weights");
      expect(lw).toMatchObject({ parent: "model_loading", duration_s: 1.71, status: "ok" });
      expect(typeof lw.start_s).toBe("number");
      // The blame table went to stderr.
      expect(r.err).toContain("load_weights");
      expect(r.err).toContain("outcome: ready");
    });
  }

  test("an inherited TRACEPARENT becomes the root span's parent", async () => {
    const rx = startReceiver();
    receivers.push(rx);
    const parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    const r = await runTracer(["--otlp-endpoint", rx.url, "--state-dir", tempStateDir(), "--quiet", "--", ...replay(QWEN, 100)],
      { env: { TRACEPARENT: parent } });
    expect(r.code).toBe(0);
    const root = byName(await rx.waitForSpans(5))["vllm.startup"];
    expect(root.traceId).toBe("4bf92f3577b34da6a3ce929d0e0e4736");
    expect(root.parentSpanId).toBe("00f067aa0ba902b7");
  });

  test("with no endpoint the trace is an OTLP/JSON file under the state directory", async () => {
    const state = tempStateDir();
    const r = await runTracer(["--state-dir", state, "--", ...replay(QWEN, 100)], {
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: undefined, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: undefined },
    });
    expect(r.code).toBe(0);
    const m = /written to (\S+\.otlp\.json)/.exec(r.err);
    expect(m).not.toBeNull();
    expect(existsSync(m![1])).toBe(true);
    const doc = JSON.parse(readFileSync(m![1], "utf8"));
    const names = doc.resourceSpans[0].scopeSpans[0].spans.map((s: any) => s.name);
    expect(names).toContain("vllm.startup");
    expect(names).toContain("load_weights");
  });
});

describe("the child's exit status and signals", () => {
  test("exit status is the child's", async () => {
    const r = await runTracer(["--quiet", "--state-dir", tempStateDir(), "--", "sh", "-c", "echo hi; exit 7"]);
    expect(r.code).toBe(7);
    expect(r.out).toBe("hi\n");
  });

  test("128+N when the child dies of signal N", async () => {
    const r = await runTracer(["--quiet", "--state-dir", tempStateDir(), "--", "sh", "-c", "kill -TERM $$"]);
    expect(r.code).toBe(143);
  });

  test("a command that does not exist: status 127 and one line", async () => {
    const r = await runTracer(["--quiet", "--", "/nonexistent/vllm-binary"]);
    expect(r.code).toBe(127);
    expect(r.err.trim().split("\n")).toHaveLength(1);
  });

  for (const sig of ["SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT"] as const) {
    test(`${sig} is forwarded to the child`, async () => {
      const proc = Bun.spawn([...tracerCmd(), "--quiet", "--state-dir", tempStateDir(), "--", BUN, join(ROOT, "test/fixtures/children/signals.ts")], {
        stdout: "pipe", stderr: "pipe", env: { ...process.env, NO_COLOR: "1" } as Record<string, string>,
      });
      const reader = proc.stdout.getReader();
      let out = "";
      while (!out.includes("child ready")) out += new TextDecoder().decode((await reader.read()).value);
      proc.kill(sig);
      const code = await proc.exited;
      for (;;) {
        const x = await reader.read();
        if (x.done) break;
        out += new TextDecoder().decode(x.value);
      }
      expect(out).toContain(`child got ${sig}`);
      expect(code).toBe(41);
    });
  }

  test("SIGTERM the moment the child exists (wrap mode still loading) is forwarded, never orphans the child", async () => {
    const state = tempStateDir();
    const pidFile = join(state, "child.pid");
    const proc = Bun.spawn([...tracerCmd(), "--quiet", "--state-dir", state, "--",
      "sh", "-c", `trap 'echo child got TERM; exit 41' TERM; echo $$ > "$0"; while :; do sleep 0.02; done`, pidFile],
    { stdout: "pipe", stderr: "pipe" });
    const outP = new Response(proc.stdout).text();
    while (!existsSync(pidFile) || readFileSync(pidFile, "utf8").trim() === "") await Bun.sleep(1);
    const childPid = Number(readFileSync(pidFile, "utf8").trim());
    proc.kill("SIGTERM");
    const code = await proc.exited;
    // Either the child's trap ran (41), or the signal reached it before the trap was set (143).
    expect([41, 143]).toContain(code);
    if (code === 41) expect(await outP).toContain("child got TERM");
    let alive = true;
    try {
      process.kill(childPid, 0);
      process.kill(childPid, "SIGKILL"); // an orphan left by a failure: ours, ended by its PID
    } catch {
      alive = false;
    }
    expect(alive).toBe(false);
  });

  test("Ctrl-C on a terminal reaches the child once (the terminal sends it to the child; it is not forwarded again)", async () => {
    const r = Bun.spawnSync(["python3", join(ROOT, "test/fixtures/children/pty-ctrl-c.py"), ...tracerCmd(), "--quiet", "--no-status",
      "--no-history", "--state-dir", tempStateDir(), "--", BUN, join(ROOT, "test/fixtures/children/signals.ts"), "2"],
    { stdout: "pipe", stderr: "pipe", env: { ...process.env, NO_COLOR: "1" } });
    const out = r.stdout.toString();
    expect(out.match(/child got SIGINT/g) ?? []).toHaveLength(1);
    expect(out).toContain("child got SIGTERM"); // a signal sent to the tracer alone is still forwarded
    expect(out).toContain("EXIT 42");
  }, 30_000);

  test("a second SIGTERM is followed by SIGKILL after the grace period", async () => {
    const proc = Bun.spawn([...tracerCmd(), "--quiet", "--kill-grace", "0.5", "--state-dir", tempStateDir(), "--",
      BUN, join(ROOT, "test/fixtures/children/signals.ts"), "99"], { stdout: "pipe", stderr: "pipe" });
    const reader = proc.stdout.getReader();
    let out = "";
    while (!out.includes("child ready")) out += new TextDecoder().decode((await reader.read()).value);
    proc.kill("SIGTERM");
    await Bun.sleep(200);
    proc.kill("SIGTERM");
    const code = await proc.exited;
    expect(code).toBe(137);
  });
});

describe("passthrough is byte for byte on both streams", () => {
  test("partial lines, \\r bars, invalid UTF-8, NUL, split ANSI, a 70 kB line", async () => {
    const r = await runTracer(["--quiet", "--state-dir", tempStateDir(), "--", BUN, join(ROOT, "test/fixtures/children/bytes.ts")]);
    expect(r.code).toBe(0);
    const concat = (parts: Uint8Array[]) => Buffer.concat(parts.map((p) => Buffer.from(p)));
    expect(Buffer.from(r.stdout).equals(concat(pieces(1)))).toBe(true);
    expect(Buffer.from(r.stderr).equals(concat(pieces(2)))).toBe(true);
  });
});

describe("command line", () => {
  test("unknown option: one line, status 2", async () => {
    for (const args of [["--bogus", "--", "true"], ["import", "--bogus", "x"], ["replay"], ["import"], ["predict", "--bogus"]]) {
      const r = await runTracer(args);
      expect(r.code).toBe(2);
      expect(r.err.trim().split("\n")).toHaveLength(1);
    }
  });

  test("--version and --help on every subcommand", async () => {
    for (const sub of [[], ["import"], ["replay"], ["demo"], ["follow"], ["predict"], ["fit"], ["flush"]]) {
      const v = await runTracer([...sub, "--version"]);
      expect(v.code).toBe(0);
      expect(v.out).toMatch(/startup-tracer \d+\.\d+\.\d+/);
      const h = await runTracer([...sub, "--help"]);
      expect(h.code).toBe(0);
      expect(h.out.toLowerCase()).toContain("usage");
    }
  });
});
