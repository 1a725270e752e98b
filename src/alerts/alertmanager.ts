// Prometheus Alertmanager sink (API v2): `POST <url>/api/v2/alerts` with a JSON
// array of alerts. A slow phase fires `VllmStartupPhaseSlow` (no endsAt, so
// Alertmanager keeps it firing; re-posted every repeatIntervalMs so it does not
// lapse after Alertmanager's resolve_timeout), and the same labels with
// endsAt = now resolve it when the phase ends.
// Fire-and-forget: the methods return at once; `flush()` awaits what is in flight.

import { type DeliveryOptions, type DeliveryResult, PendingSends, postJson } from "./deliver.ts";
import type { ResolveEvent, SlowEvent } from "./slow-detector.ts";

export interface AlertContext {
  model: string | null;
  host: string;
  trace_id?: string | null;
}

export interface AlertmanagerOptions extends DeliveryOptions {
  /** Alertmanager base URL, e.g. "http://alertmanager:9093" (a trailing /api/v2/alerts is accepted too). */
  url: string;
  /** The start-up's context; a function is read at each send (the model may be learnt late). */
  context: AlertContext | (() => AlertContext);
  /** Link back, e.g. the trace in Grafana, or the tracer's status page. */
  generatorURL?: string | ((e: { phase: string }) => string | undefined);
  severity?: string;
  /** Re-post a firing alert this often (ms); 0 disables. Default 60000. */
  repeatIntervalMs?: number;
  /** Clock, epoch ms. Default Date.now. */
  now?: () => number;
}

export const ALERT_NAME = "VllmStartupPhaseSlow";

export interface AlertmanagerAlert {
  labels: Record<string, string>;
  annotations: { summary: string; description: string };
  startsAt: string;
  endsAt?: string;
  generatorURL?: string;
}

export function alertsEndpoint(url: string): string {
  const u = url.replace(/\/+$/, "");
  return u.endsWith("/api/v2/alerts") ? u : `${u}/api/v2/alerts`;
}

function secs(s: number): string {
  return `${s.toFixed(1)} s`;
}

interface Firing {
  alert: AlertmanagerAlert;
  allowance_s: number;
  basis: string;
  timer: ReturnType<typeof setInterval> | null;
}

export class AlertmanagerNotifier {
  private readonly endpoint: string;
  private readonly pending = new PendingSends();
  private readonly firing = new Map<string, Firing>();
  private readonly now: () => number;
  private closed = false;

  constructor(private readonly opts: AlertmanagerOptions) {
    new URL(alertsEndpoint(opts.url)); // throws early on a malformed URL
    this.endpoint = alertsEndpoint(opts.url);
    this.now = opts.now ?? Date.now;
  }

  private ctx(): AlertContext {
    const c = this.opts.context;
    return typeof c === "function" ? c() : c;
  }

  private labels(phase: string): Record<string, string> {
    const c = this.ctx();
    return {
      alertname: ALERT_NAME,
      phase,
      model: c.model ?? "unknown",
      host: c.host,
      severity: this.opts.severity ?? "warning",
    };
  }

  private generator(phase: string): string | undefined {
    const g = this.opts.generatorURL;
    return typeof g === "function" ? g({ phase }) : g;
  }

  private send(alerts: AlertmanagerAlert[]): Promise<DeliveryResult> {
    return this.pending.add(postJson(this.endpoint, alerts, this.opts));
  }

  /** Fire the alert for a phase that crossed its allowance. Returns the delivery promise (never rejects). */
  slow(e: SlowEvent): Promise<DeliveryResult> {
    if (this.closed) return Promise.resolve({ ok: false, status: null, attempts: 0, error: "closed" });
    const labels = this.labels(e.phase);
    const c = this.ctx();
    const alert: AlertmanagerAlert = {
      labels,
      annotations: {
        summary: `vLLM start-up phase ${e.phase} is slow on ${labels.host}`,
        description:
          `Phase ${e.phase} of the start-up of ${labels.model} has run ${secs(e.elapsed_s)}, ` +
          `over its allowance of ${secs(e.allowance_s)} (${e.basis})` +
          (c.trace_id ? `; trace ${c.trace_id}` : "") + ".",
      },
      startsAt: new Date(this.now()).toISOString(),
    };
    const gen = this.generator(e.phase);
    if (gen) alert.generatorURL = gen;
    this.clearRepeat(e.phase);
    const f: Firing = { alert, allowance_s: e.allowance_s, basis: e.basis, timer: null };
    const every = this.opts.repeatIntervalMs ?? 60_000;
    if (every > 0) {
      f.timer = setInterval(() => void this.send([f.alert]), every);
      (f.timer as { unref?: () => void }).unref?.();
    }
    this.firing.set(e.phase, f);
    return this.send([alert]);
  }

  /** Resolve the alert of a phase that ended. */
  resolved(e: ResolveEvent): Promise<DeliveryResult> {
    const f = this.firing.get(e.phase);
    this.clearRepeat(e.phase);
    this.firing.delete(e.phase);
    const labels = f?.alert.labels ?? this.labels(e.phase);
    const nowIso = new Date(this.now()).toISOString();
    const alert: AlertmanagerAlert = {
      labels,
      annotations: {
        summary: `vLLM start-up phase ${e.phase} finished after ${secs(e.duration_s)} on ${labels.host}`,
        description:
          `Phase ${e.phase} of the start-up of ${labels.model} took ${secs(e.duration_s)}` +
          (f ? `, over its allowance of ${secs(f.allowance_s)} (${f.basis})` : "") + ".",
      },
      startsAt: f?.alert.startsAt ?? nowIso,
      endsAt: nowIso,
    };
    if (f?.alert.generatorURL) alert.generatorURL = f.alert.generatorURL;
    return this.send([alert]);
  }

  private clearRepeat(phase: string): void {
    const f = this.firing.get(phase);
    if (f?.timer) clearInterval(f.timer);
    if (f) f.timer = null;
  }

  /** Phases whose alert is firing. */
  get firingPhases(): string[] {
    return [...this.firing.keys()];
  }

  /** Wait for every send in flight. */
  flush(): Promise<void> {
    return this.pending.flush();
  }

  /** Stop re-posting, then wait for what is in flight. Firing alerts are left to the
   * caller (resolve them first if the start-up is over). */
  async close(): Promise<void> {
    this.closed = true;
    for (const phase of this.firing.keys()) this.clearRepeat(phase);
    await this.flush();
  }
}
