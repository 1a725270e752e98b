// The advice of a finished start-up on /status and on the live page: a real
// session (import of a real log), the real API server on loopback, and the page
// in Debian's headless Chromium (kept off the network).
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type BrowserContext } from "playwright-core";
import { startApiServer, type ApiServer } from "../../src/api/server.ts";
import { renderStartupMetrics } from "../../src/api/metrics.ts";
import { importLogFile } from "../../src/logparse/import-log.ts";
import { StartupSession } from "../../src/session/startup-session.ts";
import { readExportConfig } from "../../src/trace/otel-config.ts";
import { newTraceIds } from "../../src/trace/trace-ids.ts";
import { LOGS } from "../helpers/tracer.ts";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
let server: ApiServer;
let session: StartupSession;
let ctx: BrowserContext | undefined;
let profileDir = "";

beforeAll(async () => {
  const result = importLogFile(join(LOGS, "v0.11.0-gb10-dgxspark-mistral7b-gptq-ok.log"));
  const state = mkdtempSync(join(tmpdir(), "st-advice-state-"));
  session = new StartupSession({ ids: newTraceIds({}), mode: "import", t0: result.t0,
    exportConfig: readExportConfig({ OTEL_SDK_DISABLED: "true" }), stateDir: state });
  await session.finalize("eof", undefined, result);
  server = await startApiServer({ listen: "127.0.0.1:0", getSnapshot: () => session.snapshot(), metrics: () => renderStartupMetrics(session.snapshot()) });
});

afterAll(async () => {
  await ctx?.close();
  await server?.stop();
  if (profileDir) rmSync(profileDir, { recursive: true, force: true });
});

test("/status carries the finished start-up's advice", async () => {
  const s = await (await fetch(`${server.url}/status`)).json();
  expect(s.outcome).toBe("ready");
  const levers = s.advice.map((a: { lever: string }) => a.lever);
  expect(levers).toContain("compile_cache");
  expect(levers).toContain("cuda_graph_sizes");
  for (const a of s.advice) expect(a.saving_s).toBeGreaterThan(0);
});

test("/metrics has one saving gauge per advised lever, valid for promtool", async () => {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  const s = session.snapshot();
  const lines = text.split("\n").filter((l) => l.startsWith("vllm_startup_advice_saving_seconds{"));
  expect(lines.length).toBe(s.advice!.length);
  const cc = s.advice!.find((a) => a.lever === "compile_cache")!;
  expect(lines.some((l) => l.includes('lever="compile_cache"') && l.includes('phase="graph_compile"') && l.endsWith(` ${cc.saving_s}`))).toBe(true);
  const promtool = Bun.which("promtool") ?? "/usr/bin/promtool";
  const proc = Bun.spawn([promtool, "check", "metrics"], { stdin: "pipe", stdout: "pipe", stderr: "pipe" });
  proc.stdin.write(text);
  await proc.stdin.end();
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  expect({ code, out: out + err }).toEqual({ code: 0, out: "" });
});

test("the live page shows it", async () => {
  profileDir = mkdtempSync(join(tmpdir(), "startup-tracer-chromium-"));
  ctx = await chromium.launchPersistentContext(profileDir, {
    executablePath: CHROMIUM, headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  await ctx.route("**/*", (route) => (route.request().url().startsWith(server.url + "/") ? route.continue() : route.abort()));
  const page = ctx.pages()[0] ?? (await ctx.newPage());
  await page.goto(server.url + "/");
  await page.waitForSelector("#advice-section:not([hidden])", { timeout: 15_000 });
  const text = await page.textContent("#advice");
  expect(text).toContain("compile_cache on graph_compile");
  expect(text).toContain("VLLM_CACHE_ROOT");
}, 60_000);
