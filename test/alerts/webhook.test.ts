// JSON webhook sink against a real HTTP receiver on 127.0.0.1.
import { afterEach, describe, expect, test } from "bun:test";
import { WebhookNotifier } from "../../src/alerts/webhook.ts";
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

describe("WebhookNotifier", () => {
  test("slow_phase and slow_phase_resolved payloads", async () => {
    const r = receiver();
    let model: string | null = null;
    const w = new WebhookNotifier({
      url: `${r.url}/hooks/startup?x=1`,
      context: () => ({ model, host: "gpu-node-1", trace_id: "abc123" }),
    });
    w.slow({ phase: "graph_compile", allowance_s: 24.5, basis: "predicted", elapsed_s: 24.6 });
    model = "meta-llama/Llama-3.1-8B"; // learnt later: read at each send
    w.resolved({ phase: "graph_compile", duration_s: 40.2 });
    await w.flush();
    await r.waitFor(2);
    const bodies = r.received.map((x) => x.body as Record<string, unknown>);
    const slow = bodies.find((b) => b.event === "slow_phase")!;
    const res = bodies.find((b) => b.event === "slow_phase_resolved")!;
    expect(r.received[0]!.path).toBe("/hooks/startup");
    expect(r.received[0]!.headers["content-type"]).toBe("application/json");
    expect(slow).toEqual({
      event: "slow_phase", phase: "graph_compile", model: null, host: "gpu-node-1",
      allowance_s: 24.5, basis: "predicted", elapsed_s: 24.6, trace_id: "abc123",
    });
    expect(res).toEqual({
      event: "slow_phase_resolved", phase: "graph_compile", model: "meta-llama/Llama-3.1-8B", host: "gpu-node-1",
      allowance_s: 24.5, basis: "predicted", elapsed_s: 40.2, duration_s: 40.2, trace_id: "abc123",
    });
  });

  test("retries, times out, never throws, flush awaits everything in flight", async () => {
    const r = receiver();
    const errors: string[] = [];
    const w = new WebhookNotifier({
      url: `http://user:pw-secret@127.0.0.1:${new URL(r.url).port}/hook?token=q-secret`,
      context: { model: "m", host: "h" },
      timeoutMs: 200, retries: 2, backoffMs: 10,
      onError: (m) => errors.push(m),
    });
    r.failNext(1, 502);
    r.stallNext(1, 1000); // the first attempt stalls past the timeout
    const t = performance.now();
    w.slow({ phase: "a", allowance_s: 1, basis: "budget", elapsed_s: 1 });
    w.slow({ phase: "b", allowance_s: 2, basis: "budget", elapsed_s: 2 });
    expect(performance.now() - t).toBeLessThan(50);
    await w.flush();
    const phases = r.received.map((x) => (x.body as { phase: string }).phase);
    expect(new Set(phases)).toEqual(new Set(["a", "b"]));
    expect(r.received.length).toBeGreaterThanOrEqual(3); // a stalled or failed attempt was retried
    expect(errors).toEqual([]); // both got through in the end

    await r.stop();
    const res = await w.resolved({ phase: "a", duration_s: 3 });
    expect(res.ok).toBe(false);
    expect(errors.length).toBe(1);
    expect(errors[0]).not.toMatch(/secret/);
    expect(errors[0]).toMatch(/^alert delivery to http:\/\/127\.0\.0\.1:\d+\/hook failed after 3 attempt/);
  });

  test("detector + webhook with real timers", async () => {
    const r = receiver();
    const w = new WebhookNotifier({ url: r.url, context: { model: "m", host: "h", trace_id: "t" } });
    const now = () => performance.timeOrigin + performance.now();
    const d = new SlowPhaseDetector({
      slowFactor: 1.5, marginS: 0.1, now,
      onSlow: (e) => void w.slow(e),
      onResolve: (e) => void w.resolved(e),
    });
    const start = now();
    d.phaseStarted("model_init", start, 0.2);
    await r.waitFor(1, 2000);
    const first = r.received[0]!;
    expect((first.body as { event: string }).event).toBe("slow_phase");
    expect((first.body as { elapsed_s: number }).elapsed_s).toBeGreaterThanOrEqual(0.4);
    d.phaseEnded("model_init", now());
    await w.flush();
    expect((r.received[1]!.body as { event: string }).event).toBe("slow_phase_resolved");
    d.stop();
  });

  test("only http(s) URLs", () => {
    expect(() => new WebhookNotifier({ url: "file:///etc/passwd", context: { model: null, host: "h" } })).toThrow(/http/);
  });
});
