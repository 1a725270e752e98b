import { afterEach, describe, expect, test } from "bun:test";
import { bearerMatches, isLoopbackHost, parseListen, startApiServer, type ApiServer } from "../../src/api/server.ts";
import { PROMETHEUS_CONTENT_TYPE, renderStartupMetrics } from "../../src/api/metrics.ts";
import type { StartupSnapshot } from "../../src/state/types.ts";
import { makeSnapshot } from "./fixture.ts";

const started: ApiServer[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((s) => s.stop()));
});

async function serve(snap: () => StartupSnapshot, extra: { apiToken?: string; listen?: string } = {}) {
  const s = await startApiServer({
    listen: extra.listen ?? "127.0.0.1:0",
    getSnapshot: snap,
    metrics: () => renderStartupMetrics(snap()),
    apiToken: extra.apiToken,
  });
  started.push(s);
  return s;
}

describe("listen addresses", () => {
  test("parseListen", () => {
    expect(parseListen("127.0.0.1:9464")).toEqual({ host: "127.0.0.1", port: 9464 });
    expect(parseListen("[::1]:0")).toEqual({ host: "::1", port: 0 });
    expect(parseListen(":9464")).toEqual({ host: "127.0.0.1", port: 9464 });
    expect(parseListen("9464")).toEqual({ host: "127.0.0.1", port: 9464 });
    expect(parseListen("localhost:80")).toEqual({ host: "localhost", port: 80 });
    expect(parseListen("0.0.0.0:9464")).toEqual({ host: "0.0.0.0", port: 9464 });
    for (const bad of ["", "127.0.0.1", "::1:80", "[::1]", "host:port", "1.2.3.4:70000", "a b:1"]) {
      expect(() => parseListen(bad)).toThrow(/^invalid listen address/);
    }
  });

  test("isLoopbackHost", () => {
    for (const h of ["127.0.0.1", "127.1.2.3", "::1", "0:0:0:0:0:0:0:1", "::ffff:127.0.0.1", "localhost", "LOCALHOST", "[::1]"]) {
      expect(isLoopbackHost(h)).toBe(true);
    }
    for (const h of ["0.0.0.0", "::", "10.0.0.1", "128.0.0.1", "127.0.0.256", "::2", "example.com", "192.168.1.1", "fe80::1"]) {
      expect(isLoopbackHost(h)).toBe(false);
    }
  });

  test("a non-loopback address is refused without a token, with a one-line message naming it", async () => {
    for (const listen of ["0.0.0.0:9464", ":::9464".replace(":::", "[::]:"), "10.1.2.3:9464", "example.com:80"]) {
      const p = startApiServer({ listen, getSnapshot: () => makeSnapshot(), metrics: () => "" });
      const err = await p.then(() => null, (e: Error) => e);
      expect(err).toBeInstanceOf(Error);
      expect(err!.message).toContain(listen);
      expect(err!.message).toMatch(/refusing/);
      expect(err!.message).not.toContain("\n");
    }
  });

  test("a token or insecureListen lifts the refusal (checked without listening: TEST-NET address)", async () => {
    // 192.0.2.1 is TEST-NET-1, never assigned here: passing the check ends in a bind error.
    for (const extra of [{ apiToken: "s3cret-token" }, { insecureListen: true }]) {
      const err = await startApiServer({ listen: "192.0.2.1:0", getSnapshot: () => makeSnapshot(), metrics: () => "", ...extra })
        .then(() => null, (e: Error) => e);
      expect(err?.message).toMatch(/^cannot listen on 192\.0\.2\.1:0/);
      expect(err?.message).not.toContain("s3cret");
    }
  });

  test("an address in use fails with a one-line message", async () => {
    const a = await serve(() => makeSnapshot());
    const err = await startApiServer({ listen: `127.0.0.1:${a.port}`, getSnapshot: () => makeSnapshot(), metrics: () => "" })
      .then(() => null, (e: Error) => e);
    expect(err?.message).toMatch(new RegExp(`^cannot listen on 127\\.0\\.0\\.1:${a.port}`));
    expect(err?.message).not.toContain("\n");
  });

  test("IPv6 loopback with port 0 reports the real port and a bracketed URL", async () => {
    const s = await serve(() => makeSnapshot(), { listen: "[::1]:0" }).catch((e: Error) => e);
    if (s instanceof Error) {
      // Only where the kernel has no ::1 at all.
      expect(s.message).toMatch(/^cannot listen on \[::1\]:0/);
      return;
    }
    expect(s.port).toBeGreaterThan(0);
    expect(s.url).toBe(`http://[::1]:${s.port}`);
    expect(await (await fetch(`${s.url}/healthz`)).text()).toBe("ok\n");
  });
});

describe("routes", () => {
  test("healthz, status, metrics, page", async () => {
    const snap = makeSnapshot();
    const s = await serve(() => snap);
    expect(s.url).toBe(`http://127.0.0.1:${s.port}`);

    const h = await fetch(`${s.url}/healthz`);
    expect(h.status).toBe(200);
    expect(await h.text()).toBe("ok\n");

    const st = await fetch(`${s.url}/status`);
    expect(st.status).toBe(200);
    expect(st.headers.get("content-type")).toMatch(/^application\/json/);
    expect(st.headers.get("cache-control")).toBe("no-store");
    expect(await st.json()).toEqual(snap);

    const m = await fetch(`${s.url}/metrics`);
    expect(m.status).toBe(200);
    expect(m.headers.get("content-type")).toBe(PROMETHEUS_CONTENT_TYPE);
    expect(await m.text()).toBe(renderStartupMetrics(snap));

    const page = await fetch(`${s.url}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toMatch(/^text\/html/);
    expect(page.headers.get("content-security-policy")).toMatch(/default-src 'none'/);
    const html = await page.text();
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).not.toMatch(/<(script|link|img)[^>]+(src|href)=/i); // no external assets

    expect((await fetch(`${s.url}/nope`)).status).toBe(404);
  });

  test("readyz: 503 with the current phase while starting, 200 once ready, 503 when failed", async () => {
    let snap = makeSnapshot();
    const s = await serve(() => snap);
    let r = await fetch(`${s.url}/readyz`);
    expect(r.status).toBe(503);
    expect(await r.json()).toEqual({ ready: false, outcome: "running", current_phase: "load_weights", elapsed_s: 42.5, eta_s: 52.5 });

    snap = makeSnapshot({ outcome: "ready", ready_s: 95.5, elapsed_s: 95.5, current_phase: null, eta_s: 0 });
    r = await fetch(`${s.url}/readyz`);
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({ ready: true, outcome: "ready", current_phase: null, elapsed_s: 95.5, eta_s: 0 });

    snap = makeSnapshot({ outcome: "failed", current_phase: "model_loading", eta_s: null });
    r = await fetch(`${s.url}/readyz`);
    expect(r.status).toBe(503);
    expect((await r.json()).outcome).toBe("failed");
  });

  test("a throwing snapshot source gives a bare 500", async () => {
    const s = await serve(() => {
      throw new Error("secret detail");
    });
    const r = await fetch(`${s.url}/status`);
    expect(r.status).toBe(500);
    expect(await r.text()).not.toContain("secret");
    expect((await fetch(`${s.url}/healthz`)).status).toBe(200);
  });

  test("stop() closes the listener and is idempotent", async () => {
    const s = await startApiServer({ listen: "127.0.0.1:0", getSnapshot: () => makeSnapshot(), metrics: () => "" });
    expect((await fetch(`${s.url}/healthz`)).status).toBe(200);
    await s.stop();
    await s.stop();
    const err = await fetch(`${s.url}/healthz`).then(() => null, (e) => e);
    expect(err).not.toBeNull();
  });
});

describe("bearer token", () => {
  const TOKEN = "tok-7f3a9c1e5b2d";

  test("bearerMatches", () => {
    expect(bearerMatches(`Bearer ${TOKEN}`, TOKEN)).toBe(true);
    expect(bearerMatches(`bearer   ${TOKEN}`, TOKEN)).toBe(true);
    expect(bearerMatches(`Bearer ${TOKEN}x`, TOKEN)).toBe(false);
    expect(bearerMatches(`Bearer ${TOKEN.slice(0, -1)}`, TOKEN)).toBe(false);
    expect(bearerMatches(`Basic ${TOKEN}`, TOKEN)).toBe(false);
    expect(bearerMatches(TOKEN, TOKEN)).toBe(false);
    expect(bearerMatches(undefined, TOKEN)).toBe(false);
    expect(bearerMatches("", TOKEN)).toBe(false);
  });

  test("every route but /healthz and /readyz needs the token; the token never appears in a response", async () => {
    const s = await serve(() => makeSnapshot(), { apiToken: TOKEN });
    const bodies: string[] = [];
    const get = async (path: string, auth?: string) => {
      const r = await fetch(`${s.url}${path}`, { headers: auth ? { Authorization: auth } : {} });
      const hs: string[] = [];
      r.headers.forEach((v, k) => hs.push(`${k}: ${v}`));
      bodies.push(await r.text(), hs.join("\n"));
      return r.status;
    };
    expect(await get("/healthz")).toBe(200);
    expect(await get("/readyz")).toBe(503);
    for (const path of ["/", "/status", "/metrics", "/nope"]) {
      expect(await get(path)).toBe(401);
      expect(await get(path, "Bearer wrong")).toBe(401);
      expect(await get(path, `Basic ${TOKEN}`)).toBe(401);
    }
    const r401 = await fetch(`${s.url}/status`);
    expect(r401.headers.get("www-authenticate")).toMatch(/^Bearer/);
    for (const path of ["/", "/status", "/metrics"]) expect(await get(path, `Bearer ${TOKEN}`)).toBe(200);
    expect(await get("/nope", `Bearer ${TOKEN}`)).toBe(404);
    for (const b of bodies) expect(b).not.toContain(TOKEN);
  });

  test("an empty token is refused", async () => {
    const err = await startApiServer({ listen: ":0", getSnapshot: () => makeSnapshot(), metrics: () => "", apiToken: " " })
      .then(() => null, (e: Error) => e);
    expect(err?.message).toMatch(/token is empty/);
  });
});
