// Generic JSON webhook sink: one POST per event,
// `{event: "slow_phase" | "slow_phase_resolved", phase, model, host, allowance_s, elapsed_s, trace_id}`
// (a resolve also carries duration_s; its elapsed_s is the phase's final duration).
// Fire-and-forget: the methods return at once; `flush()` awaits what is in flight.

import { type DeliveryOptions, type DeliveryResult, PendingSends, postJson } from "./deliver.ts";
import type { AlertContext } from "./alertmanager.ts";
import type { ResolveEvent, SlowEvent } from "./slow-detector.ts";

export interface WebhookOptions extends DeliveryOptions {
  url: string;
  context: AlertContext | (() => AlertContext);
}

export interface WebhookPayload {
  event: "slow_phase" | "slow_phase_resolved";
  phase: string;
  model: string | null;
  host: string;
  allowance_s: number | null;
  basis?: "predicted" | "budget";
  elapsed_s: number;
  duration_s?: number;
  trace_id: string | null;
}

export class WebhookNotifier {
  private readonly pending = new PendingSends();
  private readonly allowances = new Map<string, { allowance_s: number; basis: "predicted" | "budget" }>();

  constructor(private readonly opts: WebhookOptions) {
    const u = new URL(opts.url); // throws early on a malformed URL
    if (u.protocol !== "http:" && u.protocol !== "https:") throw new Error(`webhook URL must be http(s): ${u.protocol}`);
  }

  private ctx(): AlertContext {
    const c = this.opts.context;
    return typeof c === "function" ? c() : c;
  }

  private send(p: WebhookPayload): Promise<DeliveryResult> {
    return this.pending.add(postJson(this.opts.url, p, this.opts));
  }

  slow(e: SlowEvent): Promise<DeliveryResult> {
    const c = this.ctx();
    this.allowances.set(e.phase, { allowance_s: e.allowance_s, basis: e.basis });
    return this.send({
      event: "slow_phase",
      phase: e.phase,
      model: c.model,
      host: c.host,
      allowance_s: e.allowance_s,
      basis: e.basis,
      elapsed_s: e.elapsed_s,
      trace_id: c.trace_id ?? null,
    });
  }

  resolved(e: ResolveEvent): Promise<DeliveryResult> {
    const c = this.ctx();
    const a = this.allowances.get(e.phase);
    this.allowances.delete(e.phase);
    return this.send({
      event: "slow_phase_resolved",
      phase: e.phase,
      model: c.model,
      host: c.host,
      allowance_s: a?.allowance_s ?? null,
      ...(a ? { basis: a.basis } : {}),
      elapsed_s: e.duration_s,
      duration_s: e.duration_s,
      trace_id: c.trace_id ?? null,
    });
  }

  flush(): Promise<void> {
    return this.pending.flush();
  }
}
