// Alertmanager API v2 sink against a real HTTP receiver on 127.0.0.1.
import { afterEach, describe, expect, test } from "bun:test";
import { ALERT_NAME, AlertmanagerNotifier, alertsEndpoint, type AlertmanagerAlert } from "../../src/alerts/alertmanager.ts";
import { SlowPhaseDetector } from "../../src/alerts/slow-detector.ts";
import { startReceiver, type Receiver } from "./receiver.ts";

const receivers: Receiver[] = [];
function receiver() {
  const r = startReceiver();
  receivers.push(r);
  return r;
}
afterEach(async () => {
  await Promise.all(receivers.splice(0).map((r) => r.stop()));
});

const ctx = { model: "Qwen/Qwen3-0.6B", host: "gpu-node-1", trace_id: "4bf92f3577b34da6a3ce929d0e0e4736" };

describe("AlertmanagerNotifier", () => {
  test("alertsEndpoint", () => {
    expect(alertsEndpoint("http://am:9093")).toBe("http://am:9093/api/v2/alerts");
    expect(alertsEndpoint("http://am:9093/")).toBe("http://am:9093/api/v2/alerts");
    expect(alertsEndpoint("http://am:9093/api/v2/alerts")).toBe("http://am:9093/api/v2/alerts");
    expect(alertsEndpoint("http://x/prefix")).toBe("http://x/prefix/api/v2/alerts");
  });

  test("fires and resolves with the same labels, v2 shape", async () => {
    const r = receiver();
    const am = new AlertmanagerNotifier({ url: r.url, context: ctx, generatorURL: "http://127.0.0.1:9464/", repeatIntervalMs: 0 });
    const before = Date.now();
    const ret = am.slow({ phase: "model_loading", allowance_s: 47, basis: "predicted", elapsed_s: 47.01 });
    expect(ret).toBeInstanceOf(Promise); // returns at once
    expect(am.firingPhases).toEqual(["model_loading"]);
    await am.flush();
    am.resolved({ phase: "model_loading", duration_s: 61.5 });
    await am.flush();
    const [fire, resolve] = await r.waitFor(2);
    expect(fire!.method).toBe("POST");
    expect(fire!.path).toBe("/api/v2/alerts");
    expect(fire!.headers["content-type"]).toBe("application/json");
    const fa = fire!.body as AlertmanagerAlert[];
    expect(Array.isArray(fa)).toBe(true);
    expect(fa.length).toBe(1);
    expect(fa[0]!.labels).toEqual({ alertname: ALERT_NAME, phase: "model_loading", model: ctx.model, host: ctx.host, severity: "warning" });
    expect(fa[0]!.annotations.summary).toContain("model_loading");
    expect(fa[0]!.annotations.description).toContain("47.0 s");
    expect(fa[0]!.annotations.description).toContain("predicted");
    expect(fa[0]!.endsAt).toBeUndefined();
    expect(fa[0]!.generatorURL).toBe("http://127.0.0.1:9464/");
    const startsAt = Date.parse(fa[0]!.startsAt);
    expect(startsAt).toBeGreaterThanOrEqual(before - 1);
    expect(fa[0]!.startsAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);

    const ra = resolve!.body as AlertmanagerAlert[];
    expect(ra[0]!.labels).toEqual(fa[0]!.labels);
    expect(ra[0]!.startsAt).toBe(fa[0]!.startsAt);
    expect(Date.parse(ra[0]!.endsAt!)).toBeGreaterThanOrEqual(startsAt);
    expect(Math.abs(Date.parse(ra[0]!.endsAt!) - Date.now())).toBeLessThan(5000);
    expect(am.firingPhases).toEqual([]);
    await am.close();
  });

  test("retries 5xx, then delivers; gives up quietly on 4xx and on a dead receiver", async () => {
    const r = receiver();
    const errors: string[] = [];
    const am = new AlertmanagerNotifier({
      url: r.url + "/", context: () => ctx, repeatIntervalMs: 0, backoffMs: 20, retries: 2,
      headers: { Authorization: "Bearer am-secret-123" }, onError: (m) => errors.push(m),
    });
    r.failNext(2, 503);
    const ok = await am.slow({ phase: "torch_compile", allowance_s: 30, basis: "budget", elapsed_s: 30 });
    expect(ok).toMatchObject({ ok: true, status: 200, attempts: 3 });
    expect(r.received.length).toBe(3);
    expect(r.received[2]!.headers.authorization).toBe("Bearer am-secret-123");

    r.failNext(5, 400);
    const bad = await am.resolved({ phase: "torch_compile", duration_s: 31 });
    expect(bad).toMatchObject({ ok: false, status: 400, attempts: 1 }); // not retried
    expect(errors.length).toBe(1);

    await r.stop();
    const dead = await am.slow({ phase: "x", allowance_s: 1, basis: "budget", elapsed_s: 1 });
    expect(dead.ok).toBe(false);
    expect(dead.attempts).toBe(3);
    expect(errors.length).toBe(2);
    for (const m of errors) {
      expect(m).not.toContain("am-secret-123");
      expect(m).not.toContain("\n");
      expect(m).toMatch(/^alert delivery to http:\/\/127\.0\.0\.1:\d+\/api\/v2\/alerts failed after \d attempt/);
    }
    await am.close();
  });

  test("a stalled receiver hits the short timeout, and the caller is not blocked", async () => {
    const r = receiver();
    r.stallNext(5, 1500);
    const am = new AlertmanagerNotifier({ url: r.url, context: ctx, repeatIntervalMs: 0, timeoutMs: 150, retries: 1, backoffMs: 10 });
    const t = performance.now();
    const p = am.slow({ phase: "kv_cache_profiling", allowance_s: 5, basis: "predicted", elapsed_s: 5 });
    expect(performance.now() - t).toBeLessThan(500); // returned at once (the receiver stalls 1.5 s)
    const res = await p;
    expect(res.ok).toBe(false);
    expect(res.error).toMatch(/timed out after 150 ms/);
    expect(performance.now() - t).toBeLessThan(1200);
    await am.close();
  });

  test("re-posts a firing alert until it is resolved", async () => {
    const r = receiver();
    const am = new AlertmanagerNotifier({ url: r.url, context: ctx, repeatIntervalMs: 100 });
    am.slow({ phase: "cuda_graph_capture", allowance_s: 12, basis: "predicted", elapsed_s: 12 });
    await Bun.sleep(350);
    am.resolved({ phase: "cuda_graph_capture", duration_s: 20 });
    await am.flush();
    const n = r.received.length;
    expect(n).toBeGreaterThanOrEqual(4); // first post, >= 2 repeats, the resolve
    const bodies = r.received.map((x) => (x.body as AlertmanagerAlert[])[0]!);
    expect(bodies.slice(0, -1).every((a) => a.endsAt === undefined && a.startsAt === bodies[0]!.startsAt)).toBe(true);
    expect(bodies.at(-1)!.endsAt).toBeDefined();
    await Bun.sleep(250);
    expect(r.received.length).toBe(n); // no repeats after the resolve
    await am.close();
  });

  test("end to end: detector with real timers drives fire and resolve", async () => {
    const r = receiver();
    const am = new AlertmanagerNotifier({ url: r.url, context: ctx, repeatIntervalMs: 0 });
    const now = () => performance.timeOrigin + performance.now();
    const d = new SlowPhaseDetector({
      slowFactor: 1.5, marginS: 0.1, now,
      onSlow: (e) => void am.slow(e),
      onResolve: (e) => void am.resolved(e),
    });
    d.phaseStarted("load_weights", now(), 0.2); // allowance 0.4 s
    await r.waitFor(1, 2000);
    const fired = (r.received[0]!.body as AlertmanagerAlert[])[0]!;
    expect(fired.labels.phase).toBe("load_weights");
    expect(fired.endsAt).toBeUndefined();
    d.phaseEnded("load_weights", now());
    await am.close();
    await r.waitFor(2, 2000);
    expect((r.received[1]!.body as AlertmanagerAlert[])[0]!.endsAt).toBeDefined();
    d.stop();
  });

  test("a malformed URL is refused at construction", () => {
    expect(() => new AlertmanagerNotifier({ url: "not a url", context: ctx })).toThrow();
  });
});
