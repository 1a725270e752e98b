// The live page in real headless Chromium (Debian's, driven by playwright-core):
// it polls /status, draws the waterfall, grows the running phase, follows the
// colour scheme, and renders to a non-blank picture. Chromium is kept off the
// network: only the test's own loopback origin is allowed, everything else aborted.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { startApiServer, type ApiServer } from "../../src/api/server.ts";
import { renderStartupMetrics } from "../../src/api/metrics.ts";
import type { StartupSnapshot } from "../../src/state/types.ts";
import { makeSnapshot, phase } from "./fixture.ts";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

// A start-up that moves: elapsed runs at 4x wall time from the fixture's 42.5 s;
// load_weights (the running phase) grows with it. `finish()` makes it ready.
let t0 = Date.now();
let finished = false;
let polls = 0;
function liveSnapshot(): StartupSnapshot {
  polls++;
  const base = makeSnapshot();
  if (finished) {
    return makeSnapshot({
      outcome: "ready",
      elapsed_s: 93.1,
      ready_s: 93.1,
      current_phase: null,
      current_phase_elapsed_s: null,
      eta_s: 0,
      phases: [
        ...base.phases.map((p) =>
          p.status === "running" ? { ...p, status: "ok" as const, duration_s: p.name === "model_loading" ? 33 : 22.6 } : p,
        ),
        phase({ name: "torch_compile", start_s: 52.6, duration_s: 25, status: "ok", predicted_s: 22 }),
        phase({ name: "dynamo_transform", parent: "torch_compile", start_s: 52.6, duration_s: 8, status: "ok", predicted_s: 7 }),
        phase({ name: "graph_compile", parent: "torch_compile", start_s: 60.6, duration_s: 17, status: "ok", predicted_s: 15 }),
        phase({ name: "kv_cache_profiling", start_s: 77.6, duration_s: 3.5, status: "ok", predicted_s: 4 }),
        phase({ name: "cuda_graph_capture", start_s: 81.1, duration_s: 10.8, status: "ok", predicted_s: 11 }),
        phase({ name: "server_start", start_s: 91.9, duration_s: 1.2, status: "ok", predicted_s: 1 }),
      ],
      cpu_cores: base.cpu_cores.map(() => 0.05),
      slow: [{ phase: "model_init", allowance_s: 14, basis: "predicted", detected_at_s: 33.6, resolved: true }],
    });
  }
  const elapsed = 42.5 + ((Date.now() - t0) / 1000) * 4;
  return {
    ...base,
    elapsed_s: elapsed,
    current_phase_elapsed_s: elapsed - 30,
    eta_s: Math.max(0, 95 - elapsed),
    cpu_cores: base.cpu_cores.map((u, i) => (u + polls * 0.07 * (i + 1)) % 1),
  };
}

let server: ApiServer;
let ctx: BrowserContext;
let page: Page;
let profileDir: string;
let shotDir: string;
const offOrigin: string[] = [];
const consoleErrors: string[] = [];

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`Chromium not found at ${CHROMIUM}: install Debian's chromium package (apt-get install -y chromium); .ci/run installs it`);
  }
  server = await startApiServer({
    listen: "127.0.0.1:0",
    getSnapshot: liveSnapshot,
    metrics: () => renderStartupMetrics(liveSnapshot()),
  });
  profileDir = mkdtempSync(join(tmpdir(), "startup-tracer-chromium-"));
  shotDir = process.env.PAGE_SCREENSHOT_DIR ?? mkdtempSync(join(tmpdir(), "startup-tracer-shots-"));
  mkdirSync(shotDir, { recursive: true });
  ctx = await chromium.launchPersistentContext(profileDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: FLAGS,
    viewport: { width: 1200, height: 820 },
    colorScheme: "light",
    reducedMotion: "reduce",
  });
  await ctx.route("**/*", (route) => {
    const url = route.request().url();
    if (url.startsWith(server.url + "/")) return route.continue();
    offOrigin.push(url);
    return route.abort();
  });
  page = ctx.pages()[0] ?? (await ctx.newPage());
  page.on("console", (m) => {
    if (m.type() === "error") consoleErrors.push(m.text());
  });
  page.on("pageerror", (e) => consoleErrors.push(String(e)));
});

afterAll(async () => {
  await ctx?.close();
  await server?.stop();
  if (profileDir) rmSync(profileDir, { recursive: true, force: true });
  if (shotDir && !process.env.PAGE_SCREENSHOT_DIR) rmSync(shotDir, { recursive: true, force: true });
});

/** Decode a PNG in a blank page (no CSP there) and sample it. */
async function pngStats(png: Buffer, at?: { x: number; y: number }) {
  const p = await ctx.newPage();
  try {
    return await p.evaluate(
      async ({ b64, at }) => {
        const img = new Image();
        img.src = "data:image/png;base64," + b64;
        await img.decode();
        const c = document.createElement("canvas");
        c.width = img.width;
        c.height = img.height;
        const g = c.getContext("2d")!;
        g.drawImage(img, 0, 0);
        const d = g.getImageData(0, 0, c.width, c.height).data;
        const colours = new Set<number>();
        let lumaSum = 0;
        for (let i = 0; i < d.length; i += 4) {
          colours.add((d[i]! << 16) | (d[i + 1]! << 8) | d[i + 2]!);
          lumaSum += 0.2126 * d[i]! + 0.7152 * d[i + 1]! + 0.0722 * d[i + 2]!;
        }
        const px = (x: number, y: number) => {
          const i = (y * c.width + x) * 4;
          return [d[i]!, d[i + 1]!, d[i + 2]!];
        };
        return {
          width: c.width,
          height: c.height,
          colours: colours.size,
          meanLuma: lumaSum / (d.length / 4),
          corner: px(2, 2),
          sample: at ? px(at.x, at.y) : null,
          centre: px(Math.floor(c.width / 2), Math.floor(c.height / 2)),
        };
      },
      { b64: png.toString("base64"), at },
    );
  } finally {
    await p.close();
  }
}

async function barWidth(name: string): Promise<number> {
  const box = await page.locator(`.row[data-phase="${name}"] .bar`).boundingBox();
  if (!box) throw new Error(`no bar for ${name}`);
  return box.width;
}

describe("live page in headless Chromium", () => {
  test("draws the waterfall from /status and grows the running phase", async () => {
    t0 = Date.now();
    await page.goto(server.url + "/");
    await page.waitForSelector('.row[data-phase="load_weights"]');

    // Every phase of the snapshot has a row, in start order, with its name shown.
    const names = await page.locator("#rows .row .label").allTextContents();
    expect(names).toEqual(makeSnapshot().phases.map((p) => p.name));
    // Sub-steps are marked and indented relative to their top-level phase.
    expect(await page.locator('.row[data-phase="imports"]').getAttribute("class")).toContain("sub");
    expect(await page.locator('.row[data-phase="bootstrap"]').getAttribute("class")).not.toContain("sub");
    const topX = (await page.locator('.row[data-phase="bootstrap"] .label').boundingBox())!.x;
    const subX = (await page.locator('.row[data-phase="imports"] .label').boundingBox())!.x;
    expect(subX).toBeGreaterThan(topX + 10);

    // Header: model, outcome, current phase, ETA.
    expect(await page.locator("#model").textContent()).toBe("Qwen/Qwen3-0.6B");
    expect(await page.locator("#outcome").textContent()).toBe("running");
    expect(await page.locator("#current").textContent()).toMatch(/^load_weights \(/);
    expect(await page.locator("#eta").textContent()).toMatch(/\d+ s$|\dm \d\ds$/);

    // Actual vs predicted: the finished bootstrap bar (18.2 s) against its ghost (17 s).
    const bar = (await page.locator('.row[data-phase="bootstrap"] .bar').boundingBox())!;
    const ghost = (await page.locator('.row[data-phase="bootstrap"] .ghost').boundingBox())!;
    expect(bar.width / ghost.width).toBeCloseTo(18.2 / 17, 1);
    expect(await page.locator('.row[data-phase="bootstrap"] .ghost').evaluate((e) => getComputedStyle(e).borderTopStyle)).toBe("dashed");
    expect(await page.locator('.row[data-phase="load_weights"]').getAttribute("data-status")).toBe("running");

    // The running phase grows between polls; a finished one does not.
    const w1 = await barWidth("load_weights");
    const b1 = await barWidth("bootstrap");
    const pollsBefore = polls;
    await page.waitForTimeout(2300);
    expect(polls).toBeGreaterThanOrEqual(pollsBefore + 2); // polls about every second
    const w2 = await barWidth("load_weights");
    expect(w2).toBeGreaterThan(w1 + 20);
    expect(Math.abs((await barWidth("bootstrap")) - b1)).toBeLessThan(1);

    // Per-core CPU strip: one cell per core.
    expect(await page.locator("#cores .core").count()).toBe(8);
    expect(await page.locator("#cpu-avg").textContent()).toMatch(/^8 cores, \d+% average$/);

    const png = await page.screenshot({ path: join(shotDir, "running-light.png"), fullPage: true });
    expect(png.subarray(1, 4).toString()).toBe("PNG");
    expect(png.length).toBeGreaterThan(20_000);
    const s = await pngStats(png);
    expect(s.width).toBe(1200);
    expect(s.colours).toBeGreaterThan(200); // text, bars, strip: far from blank
    expect(s.meanLuma).toBeGreaterThan(180); // light scheme

    // The running bar itself, as pixels: the amber "running" colour.
    const barPng = await page.locator('.row[data-phase="load_weights"] .bar').screenshot({ animations: "disabled" });
    const bs = await pngStats(barPng);
    const [r, g, b] = bs.centre;
    expect(r).toBeGreaterThan(180);
    expect(g).toBeGreaterThan(120);
    expect(b).toBeLessThan(120);
  });

  test("shows readiness, a slow phase and the dark scheme", async () => {
    finished = true;
    await page.waitForFunction(() => document.getElementById("outcome")?.textContent === "ready", null, { timeout: 5000 });
    expect(await page.locator("#eta").textContent()).toBe("ready");
    expect(await page.locator("#elapsed-label").textContent()).toBe("Ready after");
    expect(await page.locator("#rows .row").count()).toBe(14);
    expect(await page.locator('.row[data-phase="load_weights"]').getAttribute("data-status")).toBe("ok");
    expect(await page.locator('.row[data-phase="model_init"]').getAttribute("class")).toContain("slow");
    expect(await page.locator("#slow").textContent()).toContain("model_init exceeded");
    expect(await page.locator("#slow-section").isVisible()).toBe(true);

    await page.emulateMedia({ colorScheme: "dark" });
    await page.waitForTimeout(100);
    const png = await page.screenshot({ path: join(shotDir, "ready-dark.png"), fullPage: true });
    const s = await pngStats(png);
    expect(s.meanLuma).toBeLessThan(70);
    expect(s.colours).toBeGreaterThan(200);
    await page.emulateMedia({ colorScheme: "light" });
    await page.screenshot({ path: join(shotDir, "ready-light.png"), fullPage: true });
  });

  test("survives the tracer going away and stays self-contained", async () => {
    // No CSP violation, no script error, and no request left the test's origin.
    expect(consoleErrors).toEqual([]);
    expect(offOrigin).toEqual([]);
    writeFileSync(join(shotDir, "where.txt"), server.url + "\n");
    await server.stop();
    await page.waitForFunction(() => document.getElementById("conn")?.dataset.state === "lost", null, { timeout: 6000 });
    expect(await page.locator("#conn").textContent()).toMatch(/connection to the tracer lost/);
  });
});
