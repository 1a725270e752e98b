// Slow-phase alerting end to end through a real Alertmanager and a real
// Prometheus (Debian's packages, scripts/ensure-system-deps.sh): the tracer
// wraps a replay of a real start-up that stalls in model loading; the phase
// must reach Alertmanager by both roads while it runs — the tracer's own API v2
// push (--alertmanager-url) and Prometheus evaluating dashboards/alerts/
// prometheus-rules.yaml over the tracer's /metrics — with the documented
// labels, as Alertmanager accepted them (GET /api/v2/alerts), and both must
// resolve when the phase ends (gone from the API, and Alertmanager's own
// "resolved" notifications). No timing luck: the stall is a gate the test opens
// only once both alerts are firing.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { parse, stringify } from "yaml";
import { amAlerts, type AmAlert, type AmNotification, startAlertmanager, startPrometheus, type ServiceHandle, waitFor } from "../helpers/prom-stack.ts";
import { freePort, LOGS, ROOT, tempStateDir, tracerCmd } from "../helpers/tracer.ts";

const QWEN = join(LOGS, "paper-h100nvl", "v0.10.1.1-h100nvl-qwen-0.5b.log");
const PHASE = "model_loading";
const MODEL = "../../models/qwen-0.5b"; // as the log names it

let am: ServiceHandle | undefined;
let prom: ServiceHandle | undefined;
let sink: ReturnType<typeof Bun.serve> | undefined;
const notifications: AmNotification[] = [];
const tracerPort = freePort();

beforeAll(async () => {
  // Alertmanager's webhook receiver: records what Alertmanager itself sends on.
  sink = Bun.serve({
    hostname: "127.0.0.1", port: 0,
    async fetch(req) {
      notifications.push({ ...(await req.json()), receivedAt: Date.now() });
      return new Response("ok");
    },
  });
  am = await startAlertmanager(`http://127.0.0.1:${sink.port}/am`);
  // The shipped rules, evaluated every second instead of every 30 s.
  const rules = parse(readFileSync(join(ROOT, "dashboards", "alerts", "prometheus-rules.yaml"), "utf8"));
  for (const g of rules.groups) g.interval = "1s";
  prom = await startPrometheus({ targets: [`127.0.0.1:${tracerPort}`], rules: stringify(rules), alertmanagerUrl: am.url });
}, 60_000);

afterAll(async () => {
  await prom?.stop();
  await am?.stop();
  sink?.stop(true);
});

/** The first alert of `alerts` whose labels include `want`. */
const find = (alerts: AmAlert[], want: Record<string, string>) =>
  alerts.find((a) => Object.entries(want).every(([k, v]) => a.labels[k] === v));

describe("a slow phase reaches a real Alertmanager by both roads, and resolves with the phase", () => {
  test("tracer push (VllmStartupPhaseSlow) and Prometheus rule (VllmStartupSlowPhase)", async () => {
    // The recorded start-up, stalled after "Loading weights on cuda ..." (line 47) until the gate opens.
    const lines = readFileSync(QWEN, "utf8").split("\n");
    const dir = mkdtempSync(join(tmpdir(), "st-alerting-"));
    writeFileSync(join(dir, "head.log"), `${lines.slice(0, 47).join("\n")}\n`);
    writeFileSync(join(dir, "tail.log"), lines.slice(47).join("\n"));
    const gate = join(dir, "gate");
    const q = (s: string) => `'${s.replaceAll("'", "'\\''")}'`;
    const replay = (f: string) => `${tracerCmd().map(q).join(" ")} replay ${q(join(dir, f))} --speed 10`;
    const child = `${replay("head.log")} --exit-when-done; until [ -e ${q(gate)} ]; do sleep 0.05; done; exec ${replay("tail.log")}`;
    const state = tempStateDir();
    const t0 = Date.now();
    const tracer = Bun.spawn([...tracerCmd(), "--listen", `127.0.0.1:${tracerPort}`, "--alertmanager-url", am!.url,
      "--budget", `${PHASE}=1s`, "--slow-factor", "100", "--state-dir", state, "--no-history", "--quiet", "--no-status",
      "--", "sh", "-c", child], { stdout: "ignore", stderr: "pipe", env: { ...process.env, NO_COLOR: "1" } });
    const killer = setTimeout(() => tracer.kill("SIGKILL"), 110_000);
    try {
      // 1. Both alerts firing in Alertmanager while the phase still runs.
      const firing = await waitFor("both alerts firing in Alertmanager", 60_000, async () => {
        const alerts = await amAlerts(am!);
        const push = find(alerts, { alertname: "VllmStartupPhaseSlow", phase: PHASE });
        const rule = find(alerts, { alertname: "VllmStartupSlowPhase", phase: PHASE });
        return push && rule ? { push, rule } : undefined;
      });
      const status = await (await fetch(`http://127.0.0.1:${tracerPort}/status`)).json();
      expect(status.phases.find((p: { name: string }) => p.name === PHASE)?.status).toBe("running");
      expect((await fetch(`http://127.0.0.1:${tracerPort}/readyz`)).status).toBe(503);

      const now = Date.now();
      const { push, rule } = firing;
      // What Alertmanager accepted from the tracer: exactly the documented labels.
      expect(push.labels).toEqual({ alertname: "VllmStartupPhaseSlow", phase: PHASE, model: MODEL, host: hostname(), severity: "warning" });
      expect(push.annotations.summary).toContain(PHASE);
      expect(push.annotations.description).toContain("budget");
      expect(push.generatorURL).toBe(`http://127.0.0.1:${tracerPort}/`);
      expect(push.status.state).toBe("active");
      expect(push.receivers.map((r) => r.name)).toEqual(["hook"]);
      const pushStart = Date.parse(push.startsAt);
      expect(pushStart).toBeGreaterThanOrEqual(t0 - 1000);
      expect(pushStart).toBeLessThanOrEqual(now);
      // No endsAt sent: Alertmanager keeps it firing for its resolve_timeout (5 min).
      expect(Date.parse(push.endsAt)).toBeGreaterThan(now + 60_000);
      // What Alertmanager accepted from Prometheus: the rule's labels plus the scrape target's.
      expect(rule.labels).toEqual({ alertname: "VllmStartupSlowPhase", phase: PHASE, model: MODEL, instance: `127.0.0.1:${tracerPort}`,
        severity: "warning", component: "vllm-startup" });
      expect(rule.annotations.summary).toContain(PHASE);
      expect(rule.generatorURL).toContain("vllm_startup_phase_slow");
      expect(rule.status.state).toBe("active");
      expect(Date.parse(rule.startsAt)).toBeGreaterThanOrEqual(pushStart - 1000);
      // Alertmanager sent both on to its receiver as firing.
      await waitFor("firing notifications", 15_000, async () =>
        ["VllmStartupPhaseSlow", "VllmStartupSlowPhase"].every((n) =>
          notifications.some((x) => x.alerts.some((a) => a.status === "firing" && a.labels.alertname === n))) || undefined);

      // 2. The phase ends: both alerts resolve.
      const opened = Date.now();
      writeFileSync(gate, "");
      await waitFor("both alerts resolved (gone from GET /api/v2/alerts)", 30_000, async () => {
        const alerts = await amAlerts(am!);
        return !find(alerts, { alertname: "VllmStartupPhaseSlow", phase: PHASE }) && !find(alerts, { alertname: "VllmStartupSlowPhase", phase: PHASE })
          ? true : undefined;
      });
      const resolved = await waitFor("resolved notifications", 15_000, async () => {
        const r = ["VllmStartupPhaseSlow", "VllmStartupSlowPhase"].map((n) => notifications.flatMap((x) => x.alerts)
          .find((a) => a.status === "resolved" && a.labels.alertname === n && a.labels.phase === PHASE));
        return r.every(Boolean) ? r : undefined;
      });
      for (const a of resolved) {
        const ends = Date.parse(a!.endsAt);
        expect(ends).toBeGreaterThanOrEqual(opened - 1000); // resolved by the phase's end, not by a timeout
        expect(ends).toBeGreaterThanOrEqual(Date.parse(a!.startsAt));
      }
      expect(resolved[0]!.generatorURL).toBe(`http://127.0.0.1:${tracerPort}/`);
      // The server goes on to readiness, and the tracer never had an alert refused.
      await waitFor("readiness", 30_000, async () =>
        (await fetch(`http://127.0.0.1:${tracerPort}/readyz`)).status === 200 || undefined);
    } finally {
      tracer.kill("SIGTERM");
      await tracer.exited;
      clearTimeout(killer);
      if (!existsSync(gate)) writeFileSync(gate, "");
    }
    const err = await new Response(tracer.stderr).text();
    expect(err).toContain(`phase ${PHASE} is slow`);
    expect(err).not.toContain("alert delivery");
  }, 120_000);
});
