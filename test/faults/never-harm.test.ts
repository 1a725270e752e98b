// "Never harm the server": faults of the exporter, of our own output streams
// and of the state directory must not slow, block or change the child, and no
// start-up trace may be lost.
import { afterAll, describe, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { startReceiver } from "../helpers/otlp-receiver.ts";
import { LOGS, ROOT, runTracer, tempStateDir, tracerCmd } from "../helpers/tracer.ts";

const QWEN = join(LOGS, "paper-h100nvl", "v0.10.1.1-h100nvl-qwen-0.5b.log");
const replay = (speed = 200) => [...tracerCmd(), "replay", QWEN, "--speed", String(speed), "--exit-when-done"];
const receivers: ReturnType<typeof startReceiver>[] = [];
afterAll(() => receivers.forEach((r) => r.stop()));

/** A loopback port nothing listens on. */
function deadPort(): number {
  const s = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response("") });
  const p = s.port!;
  s.stop(true);
  return p;
}

describe("backend faults", () => {
  test("no span is lost across an outage: backend down, spooled, brought up, flush sends every span", async () => {
    const state = tempStateDir();
    const port = deadPort();
    const summary = join(state, "summary.json");
    const r = await runTracer(["--otlp-endpoint", `http://127.0.0.1:${port}`, "--state-dir", state, "--summary-json", summary,
      "--exit-timeout", "1", "--no-history", "--", ...replay()]);
    expect(r.code).toBe(0);
    expect(r.err).toContain("spooled");
    const spooled = readdirSync(join(state, "spool")).filter((f) => f.endsWith(".otlp"));
    expect(spooled).toHaveLength(1);
    // Every phase of the start-up (the summary lists them) plus the root span must arrive.
    const sum = JSON.parse(readFileSync(summary, "utf8"));
    const want = ["vllm.startup", ...sum.phases.map((p: { name: string }) => p.name)].sort();
    expect(want.length).toBeGreaterThan(8);
    // The backend comes up on the port that was down.
    const rx = startReceiver({ port });
    receivers.push(rx);
    const f = await runTracer(["flush", "--state-dir", state], { env: { OTEL_EXPORTER_OTLP_ENDPOINT: undefined } });
    expect(f.code).toBe(0);
    const got = (await rx.waitForSpans(want.length)).map((s) => s.name).sort();
    expect(got).toEqual(want);
    expect(rx.spans[0].traceId).toBe(sum.trace_id);
    expect(new Set(rx.spans.map((s) => s.traceId)).size).toBe(1);
    expect(readdirSync(join(state, "spool")).filter((x) => x.endsWith(".otlp"))).toHaveLength(0);
  }, 30_000);

  test("a backend answering 503 is retried, then the trace is spooled; the exit status is the child's", async () => {
    const rx = startReceiver();
    receivers.push(rx);
    rx.answer = 503;
    const state = tempStateDir();
    const r = await runTracer(["--otlp-endpoint", rx.url, "--state-dir", state, "--exit-timeout", "1.5", "--quiet", "--no-history", "--",
      "sh", "-c", `"$@"; exit 5`, "sh", ...replay()]);
    expect(r.code).toBe(5);
    expect(rx.requests.length).toBeGreaterThanOrEqual(2); // retried with backoff
    expect(readdirSync(join(state, "spool")).some((f) => f.endsWith(".otlp"))).toBe(true);
  }, 20_000);

  test("a backend that never answers: the tracer exits within --exit-timeout of the child", async () => {
    const hang = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Promise<Response>(() => {}) });
    try {
      const state = tempStateDir();
      const t0 = performance.now();
      const r = await runTracer(["--otlp-endpoint", `http://127.0.0.1:${hang.port}`, "--state-dir", state, "--exit-timeout", "1", "--quiet", "--no-history", "--",
        "sh", "-c", "echo 'INFO 01-01 00:00:00 [api_server.py:1] vLLM API server version 0.10.1'; exit 3"]);
      const took = performance.now() - t0;
      expect(r.code).toBe(3);
      expect(took).toBeLessThan(3000);
      expect(readdirSync(join(state, "spool")).some((f) => f.endsWith(".otlp"))).toBe(true);
    } finally {
      hang.stop(true);
    }
  }, 20_000);

  test("an unwritable state directory: a warning, the child's output and status unchanged", async () => {
    const base = tempStateDir();
    const state = join(base, "file-not-dir");
    writeFileSync(state, "x"); // mkdir under a regular file fails even for root
    const r = await runTracer(["--state-dir", state, "--", "sh", "-c", "echo hello; exit 4"],
      { env: { OTEL_EXPORTER_OTLP_ENDPOINT: undefined, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: undefined } });
    expect(r.code).toBe(4);
    expect(r.out).toBe("hello\n");
    expect(r.err).toContain("startup-tracer: warning");
    expect(r.err).not.toContain("internal error");
  });

  test("a read-only spool with the backend down: warning, never a crash", async () => {
    const state = tempStateDir();
    mkdirSync(join(state, "spool"), { recursive: true });
    writeFileSync(join(state, "spool", "x"), "");
    chmodSync(join(state, "spool"), 0o500);
    // root ignores modes: make the spool path a file instead when that is so.
    const r = await runTracer(["--otlp-endpoint", `http://127.0.0.1:${deadPort()}`, "--state-dir", state, "--exit-timeout", "0.5", "--quiet", "--no-history", "--",
      "sh", "-c", "echo ok"]);
    expect(r.code).toBe(0);
    expect(r.out).toBe("ok\n");
    expect(r.err).not.toContain("internal error");
  });
});

describe("our own output faults", () => {
  test("our stdout not read at all (a full pipe): the child is never blocked", async () => {
    // 8 MiB through a stdout nobody reads: the child finishes at once, the tracer exits with its status.
    const proc = Bun.spawn([...tracerCmd(), "--state-dir", tempStateDir(), "--quiet", "--no-history", "--",
      "sh", "-c", "head -c 8388608 /dev/zero; echo done >&2; exit 9"], { stdout: "pipe", stderr: "pipe" });
    const t0 = performance.now();
    const err = await new Response(proc.stderr).text();
    const took = performance.now() - t0;
    expect(err).toContain("done");
    expect(took).toBeLessThan(8000);
    const code = await Promise.race([proc.exited, Bun.sleep(8000).then(() => -1)]);
    proc.kill("SIGKILL");
    expect(code).toBe(9);
  }, 20_000);

  test("where the native copier cannot start, Bun's streams copy the child's pipes: byte-exact, and parsed", async () => {
    const state = tempStateDir();
    const summary = join(state, "summary.json");
    const proc = Bun.spawn([...tracerCmd(), "--state-dir", state, "--summary-json", summary, "--no-history", "--",
      process.execPath, join(ROOT, "test/fixtures/children/huge-line.ts")],
    { stdout: "pipe", stderr: "pipe", env: { ...process.env, STARTUP_TRACER_NATIVE_COPIER: "0" } });
    const errP = new Response(proc.stderr).text();
    const out = new Uint8Array(await new Response(proc.stdout).arrayBuffer());
    const err = await errP;
    expect(await proc.exited).toBe(0);
    expect(err).toContain("native output copier unavailable (STARTUP_TRACER_NATIVE_COPIER=0)");
    const want = /child-sha256 ([0-9a-f]{64}) (\d+)/.exec(err)!;
    expect(out.length).toBe(Number(want[2]));
    expect(createHash("sha256").update(out).digest("hex")).toBe(want[1]);
    // The start-up log after the 64 MiB line reached the parser too.
    const s = JSON.parse(readFileSync(summary, "utf8"));
    expect(s.phases.map((p: { name: string }) => p.name)).toContain("load_weights");
  }, 30_000);

  // Both copiers: the native one, and Bun's streams where it cannot start.
  for (const [how, env] of [["native copier", {}], ["Bun's streams", { STARTUP_TRACER_NATIVE_COPIER: "0" }]] as const) {
    test(`our own messages never split a line of the child's stderr (${how})`, async () => {
      // The --budget warning comes as the live features load, here while the child is (or is
      // about to be) in the middle of a stderr line.
      const r = await runTracer(["--quiet", "--no-history", "--state-dir", tempStateDir(), "--budget", "nonsense", "--",
        "sh", "-c", `printf 'half-' >&2; sleep 0.6; printf 'line\\n' >&2; echo out-done`], { env });
      expect(r.code).toBe(0);
      expect(r.out).toBe("out-done\n");
      // Whichever comes first, neither splits the other.
      const lines = r.err.split("\n");
      expect(lines).toContain("half-line");
      expect(lines.filter((l) => l.startsWith("startup-tracer: warning: ignoring invalid --budget"))).toHaveLength(1);
    }, 20_000);

    test(`our stdout closed (EPIPE): the child keeps running to its end, the trace still sees its output (${how})`, async () => {
      const state = tempStateDir();
      const summary = join(state, "s.json");
      const proc = Bun.spawn([...tracerCmd(), "--summary-json", summary, "--state-dir", state, "--quiet", "--no-history", "--",
        "sh", "-c", `echo first; sleep 0.3; "$@"; echo child-finished >&2`, "sh", ...replay(100)], {
        stdout: "pipe", stderr: "pipe", env: { ...process.env, ...env, OTEL_EXPORTER_OTLP_ENDPOINT: "" } as Record<string, string>,
      });
      const reader = proc.stdout.getReader();
      await reader.read();
      await reader.cancel(); // closes our end of the tracer's stdout
      const err = await new Response(proc.stderr).text();
      expect(await proc.exited).toBe(0);
      expect(err).toContain("child-finished");
      expect(err).toContain("own stdout closed");
      const s = await Bun.file(summary).json();
      expect(s.outcome).toBe("ready"); // the records on stdout still reached the parser
    }, 20_000);

    test(`a slow reader of our stdout loses nothing, even past the 32 MiB the copier queues (${how})`, async () => {
      // 64 MiB in a burst, read 1 MiB per 40 ms: the reader paces the child (as it would
      // without the tracer) instead of the tracer dropping what does not fit.
      const proc = Bun.spawn([...tracerCmd(), "--state-dir", tempStateDir(), "--quiet", "--no-history", "--",
        process.execPath, join(ROOT, "test/fixtures/children/huge-line.ts")], { stdout: "pipe", stderr: "pipe", env: { ...process.env, ...env } });
      const errP = new Response(proc.stderr).text();
      const hash = createHash("sha256");
      let bytes = 0;
      let sinceSleep = 0;
      const reader = proc.stdout.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        hash.update(value);
        bytes += value.length;
        sinceSleep += value.length;
        if (sinceSleep >= 1 << 20) {
          sinceSleep = 0;
          await Bun.sleep(40);
        }
      }
      const err = await errP;
      expect(await proc.exited).toBe(0);
      const want = /child-sha256 ([0-9a-f]{64}) (\d+)/.exec(err)!;
      expect(bytes).toBe(Number(want[2]));
      expect(hash.digest("hex")).toBe(want[1]);
    }, 30_000);

    test(`a stuck reader of our stdout holds a 40 MiB child up about a second at most, then output is dropped (${how})`, async () => {
      // Our stdout is a pipe to `sleep`, which never reads it (a Bun pipe would be read eagerly).
      const proc = Bun.spawn(["sh", "-c", `{ "$@"; echo "tracer-exit $?" >&2; } | sleep 5`, "sh", ...tracerCmd(),
        "--state-dir", tempStateDir(), "--no-history", "--", "sh", "-c", "head -c 41943040 /dev/zero; echo done >&2; exit 9"],
      { stdout: "ignore", stderr: "pipe", env: { ...process.env, ...env } });
      const t0 = performance.now();
      let err = "";
      let doneAt = Infinity;
      let exitAt = Infinity;
      const reader = proc.stderr.getReader();
      while (exitAt === Infinity) {
        const { done, value } = await reader.read();
        if (done) break;
        err += new TextDecoder().decode(value);
        if (err.includes("done\n") && doneAt === Infinity) doneAt = performance.now() - t0;
        if (err.includes("tracer-exit")) exitAt = performance.now() - t0;
      }
      reader.releaseLock();
      expect(doneAt).toBeLessThan(4000); // STUCK_MS (1 s) plus start-up and copying, on a loaded machine
      expect(exitAt).toBeLessThan(5000); // what is queued gets STUCK_MS more at the end, then the tracer exits
      expect(err).toContain("tracer-exit 9");
      expect(err).toMatch(/warning: \d+ bytes of the child's stdout could not be written/);
      await proc.exited;
    }, 20_000);

  }

  test("a grandchild holding the pipes open does not keep the tracer alive", async () => {
    const t0 = performance.now();
    const r = await runTracer(["--state-dir", tempStateDir(), "--quiet", "--no-history", "--exit-timeout", "1", "--",
      "sh", "-c", "(sleep 30 &) ; echo parent-done; exit 6"], { timeoutMs: 15_000 });
    expect(r.code).toBe(6);
    expect(r.out).toContain("parent-done");
    expect(performance.now() - t0).toBeLessThan(5000);
  }, 20_000);

  test("the child killed by a signal while the export is in flight: status 128+N, trace spooled", async () => {
    const hang = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Promise<Response>(() => {}) });
    try {
      const state = tempStateDir();
      // The start-up is ready (export begins), then the child is killed.
      const r = await runTracer(["--otlp-endpoint", `http://127.0.0.1:${hang.port}`, "--state-dir", state, "--exit-timeout", "1", "--quiet", "--no-history", "--",
        "sh", "-c", `"$@"; sleep 0.3; kill -KILL $$`, "sh", ...replay()]);
      expect(r.code).toBe(137);
      expect(existsSync(join(state, "spool"))).toBe(true);
    } finally {
      hang.stop(true);
    }
  }, 20_000);
});

describe("the tracer as PID 1 (container entrypoint)", () => {
  const canUnshare = Bun.spawnSync(["unshare", "--pid", "--fork", "--mount-proc", "true"]).exitCode === 0;
  test.skipIf(!canUnshare)("reaps exited orphans, does not hang on live ones, exits with the child's status", async () => {
    const proc = Bun.spawn(["unshare", "--pid", "--fork", "--mount-proc", ...tracerCmd(), "--quiet", "--no-history", "--state-dir", tempStateDir(), "--",
      "sh", "-c", "(sleep 0.1 &); (sleep 60 &); sleep 1.6; ps -eo stat=,comm= ; exit 3"], { stdout: "pipe", stderr: "pipe" });
    const t0 = performance.now();
    const out = await new Response(proc.stdout).text();
    const code = await proc.exited;
    expect(code).toBe(3);
    expect(performance.now() - t0).toBeLessThan(8000);
    expect(out).toMatch(/startup-tracer|bun/); // the tracer itself (compiled or run from source) is in the namespace
    expect(out).not.toMatch(/^Z/m); // the exited orphan was reaped
  }, 20_000);
});
