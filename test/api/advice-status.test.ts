// The advice of a finished start-up on /status and on the live page: a real
// session (import of a real log), the real API server on loopback, and the page
// in Debian's headless Chromium (kept off the network).
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type BrowserContext } from "playwright-core";
import { startApiServer, type ApiServer } from "../../src/api/server.ts";
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
  server = await startApiServer({ listen: "127.0.0.1:0", getSnapshot: () => session.snapshot(), metrics: () => "" });
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
