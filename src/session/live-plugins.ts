// Loads the live features of wrap and follow modes after the child is running:
// host sampling, the predictor, slow-phase alerts, the HTTP API and the local
// history. Each is optional and isolated: a failure costs that feature only,
// with one warning line, never the child or the trace.
import { hostname } from "node:os";
import { readFileSync } from "node:fs";
import type { StartupSession, SessionPlugin } from "./startup-session.ts";
import { nowMs } from "./startup-session.ts";
import { counterSnap } from "./counter-snap.ts";
import { LIVE_MAY_HIDE_NEXT } from "../phases/segments.ts";
import type { OptionValues } from "../cli/options.ts";
import type { Attributes, SlowPhase } from "../state/types.ts";
import type { SpanEvent } from "../trace/build-spans.ts";
import { warn } from "../report/messages.ts";
import type { Heartbeat } from "../process/heartbeat.ts";

export interface LiveContext {
  pid: number | null;
  argv: string[];
  env: Record<string, string | undefined>;
  stateDir: string;
  mode: "wrap" | "follow";
  /** The main thread's shared timer (wrap mode): sampling ticks ride on it. */
  beat?: Heartbeat;
}

export interface LiveHandle {
  setPid(pid: number): void;
  stop(): Promise<void>;
}

export async function loadLivePlugins(session: StartupSession, values: OptionValues, ctx: LiveContext): Promise<LiveHandle> {
  const stops: (() => void | Promise<void>)[] = [];
  let setPid: (pid: number) => void = () => {};
  // The host inventory (GPU product, memory, CPU): the sampler asks for it once; the predictor reads it too.
  let inventory: Promise<Attributes> | null = null;
  // What bounded a finished phase, from the host samples (the predictor's evidence goes to that class).
  let boundByOf: (startMs: number, endMs: number) => unknown = () => null;

  // 1. Sampling first: it should cover the earliest phases.
  const interval = values["sample-interval"] === undefined ? 100 : Number(values["sample-interval"]);
  if (interval > 0) {
    try {
      const { createSampler, hostInventory } = await import("../sampling/index.ts");
      const sampler = createSampler({ intervalMs: interval, heartbeat: ctx.beat });
      if (ctx.pid) sampler.start(ctx.pid);
      setPid = (pid) => sampler.setRootPid(pid);
      boundByOf = (a, b) => sampler.boundBy(sampler.summarize(a, b));
      let resource: Attributes = {};
      inventory = hostInventory();
      inventory.then((r) => { resource = r; }).catch(() => undefined);
      const plugin: SessionPlugin = {
        name: "sampling",
        // Exact counters at every live boundary (samples between ticks are interpolated).
        onPhaseStart: () => sampler.markBoundary(),
        onPhaseEnd: () => sampler.markBoundary(),
        phaseAttributes: (p, r) => {
          const a = sampler.summarize(p.startMs, p.endMs, counterSnap(p, r));
          return { ...a, "vllm.startup.phase.bound_by": sampler.boundBy(a) };
        },
        rootAttributes: (r) => sampler.rootAttributes(r.t0, r.endT),
        resourceAttributes: () => resource,
        cpuCores: () => sampler.latestCores(),
        finished: () => sampler.stop(),
        stop: () => sampler.stop(),
      };
      session.addPlugin(plugin);
      stops.push(() => sampler.stop());
    } catch (e) {
      warn(`host sampling unavailable: ${(e as Error).message}`);
    }
  }

  // 2. The predictor (features come from the command line and the model's files).
  let predictedFor: (name: string) => number | null = () => null;
  let sigmaFor: (name: string) => number | null = () => null;
  try {
    const [{ extractFeatures }, { predict }, { LivePredictor }, { loadActiveCoefficients }] = await Promise.all([
      import("../predict/features.ts"), import("../predict/model.ts"), import("../predict/live.ts"), import("../predict/fit.ts"),
    ]);
    const features = await extractFeatures({
      model: values.model as string | undefined, args: ctx.argv, env: ctx.env,
      compileCache: (values["compile-cache"] as "warm" | "cold" | "auto" | undefined) ?? "auto",
    });
    // Feature warnings (unknown version, unreadable model dir) describe the
    // prediction's basis: they go on the root span, not into the user's terminal.
    const featureWarnings = (features.warnings ?? []).slice(0, 10);
    // Except for an unusable --model: that is the tracer's own option, so it gets one line.
    if (values.model) {
      const bad = (features.warnings ?? []).find((w) => /^(?:model path |model .* not found|cannot read config\.json|no config\.json in|cannot list model directory)/.test(w));
      if (bad) warn(`--model ${String(values.model)}: ${bad}`);
    }
    const coefficients = loadActiveCoefficients(ctx.stateDir);
    void predict;
    // The hardware prior and the fleet history (src/predict/live-prior.ts): --gpu at once, the inventory when it answers.
    const [{ livePrediction }, { hardwareFromInventory }, { History }, { PRIORS }] = await Promise.all([
      import("../predict/live-prior.ts"), import("../predict/hardware.ts"), import("../predict/history.ts"), import("../predict/prior.ts")]);
    let gpuOption = typeof values.gpu === "string" ? values.gpu : null;
    if (gpuOption !== null) {
      // a malformed --gpu never stops the server: one warning, and the host's own GPU is used
      try { (await import("../predict/hardware.ts")).parseGpuOption(gpuOption); } catch (e) { warn(`ignoring ${(e as Error).message}`); gpuOption = null; }
    }
    const seenKeys = new Map<string, Record<string, number> | null>(); // one history read per key
    const keyHistory = values["no-history"] ? undefined : (key: string) => {
      if (!seenKeys.has(key)) { const h = new History(ctx.stateDir); try { seenKeys.set(key, h.phasesForKey(key)); } finally { h.close(); } }
      return seenKeys.get(key) ?? null;
    };
    let live = livePrediction(features, coefficients, hardwareFromInventory({}, gpuOption), ctx.argv, keyHistory);
    const prediction = live.prediction;
    const lp = new LivePredictor(prediction, { gapsFactor: PRIORS.fitted.gaps.factor });
    sigmaFor = (name) => live.prediction.sigma[name] ?? null;
    // What vLLM prints (engine config, platform, GPU lines) refines both as the lines arrive.
    const [{ LogFactScanner }, { refineFeatures, mergeHardware }] = await Promise.all([import("../predict/log-hardware.ts"), import("../predict/live-prior.ts")]);
    const scanner = new LogFactScanner(5000);
    session.tapLines((line) => scanner.push(line));
    let inv = hardwareFromInventory({}, gpuOption);
    const refresh = () => {
      const facts = scanner.finish();
      const next = livePrediction(refineFeatures(features, facts), coefficients, mergeHardware(inv, facts), ctx.argv, keyHistory, facts.server_mode);
      if (next.hw_class !== live.hw_class || next.fleet_key !== live.fleet_key || next.prediction.total_s !== live.prediction.total_s) {
        live = next;
        lp.rebase(next.prediction);
      }
    };
    if (!gpuOption) inventory?.then((attrs) => { inv = hardwareFromInventory(attrs, null); refresh(); }).catch(() => undefined);
    const t0 = session.opts.t0;
    const startAt = new Map<string, number>();
    predictedFor = (name) => lp.predictedFor(name);
    session.addPlugin({
      name: "prediction",
      onPhaseStart: (name, _parent, t) => {
        startAt.set(name, t);
        refresh();
        lp.onPhaseStart(name, (t - t0) / 1000);
      },
      onPhaseEnd: (name, t) => {
        const st = startAt.get(name) ?? t;
        if (t - st >= 1000) lp.setBoundBy(name, boundByOf(st, t)); // a sub-second phase says little about the host
        lp.onPhaseEnd(name, (t - st) / 1000);
      },
      predicted: (name) => lp.predictedFor(name),
      predictedTotal: () => lp.totalPredicted(),
      rootAttributes: (): Attributes => ({
        ...(featureWarnings.length ? { "vllm.startup.prediction.warnings": featureWarnings } : {}),
        "vllm.startup.hardware.class": live.hw_class, "vllm.startup.prediction.basis": live.basis,
        "vllm.startup.prediction.sigma": live.prediction.sigma_total, "vllm.startup.fleet": live.fleet_key,
      }),
      // The ETA to readiness as it stood when the phase began, and the prediction's uncertainty.
      phaseAttributes: (p): Attributes => {
        const out: Attributes = {};
        const eta = lp.etaAt(p.name);
        if (eta !== null) out["vllm.startup.phase.eta_s"] = eta;
        const sg = sigmaFor(p.name);
        if (sg !== null) out["vllm.startup.phase.predicted_sigma"] = sg;
        return out;
      },
      eta: (now, current, currentStart) => {
        const v = lp.eta((now - t0) / 1000, current, currentStart !== null ? (now - currentStart) / 1000 : 0);
        return v === null ? null : Math.round(v * 10) / 10;
      },
      finished: async (summary) => {
        if (values["no-history"]) return;
        const { History } = await import("../predict/history.ts");
        const h = new History(ctx.stateDir);
        h.recordStartup(summary, features, live.fleet_key);
        h.close();
      },
    });
    // The advice (README "Advice"): the warm-compile saving is predicted from the same features; the
    // engine's config line (capture sizes, load format, eager) from what the scanner read, also put on
    // the phases so `advise <summary|trace>` later sees the same.
    const adviceLog = () => {
      const facts = scanner.finish();
      return { captureSizes: facts.cuda_graph_sizes ?? undefined, loadFormat: facts.load_format ?? undefined,
        enforceEager: facts.enforce_eager ?? undefined, maxModelLen: facts.max_model_len ?? undefined };
    };
    const { adviceAttributes } = await import("../advice/log-facts.ts");
    session.addPlugin({
      name: "advice",
      adviceContext: () => ({ features: features as never, coefficients, log: adviceLog() }),
      phaseAttributes: (p) => adviceAttributes(p.name, adviceLog()),
    });
  } catch (e) {
    warn(`prediction unavailable: ${(e as Error).message}`);
  }

  // 3. Slow phases: detection while a phase runs, span events, alerts.
  try {
    const { SlowPhaseDetector, parseBudget } = await import("../alerts/slow-detector.ts");
    const budgets: Record<string, number> = {};
    for (const spec of (values.budget as string[] | undefined) ?? []) {
      try {
        const b = parseBudget(spec);
        budgets[b.phase] = b.seconds;
      } catch (e) {
        warn(`ignoring ${(e as Error).message}`);
      }
    }
    const context = () => ({ model: session.tracker.info.model, host: hostname(), trace_id: session.opts.ids.traceId });
    const notifiers: { slow(e: unknown): unknown; resolved(e: unknown): unknown; flush(): Promise<void> }[] = [];
    if (values["alertmanager-url"]) {
      const { AlertmanagerNotifier } = await import("../alerts/alertmanager.ts");
      // generatorURL: the tracer's live page when --listen is on (the API server starts after this).
      const generatorURL = () => {
        const u = (session as unknown as { apiUrl?: string }).apiUrl;
        return u ? `${u.replace(/\/\/(0\.0\.0\.0|\[::\])(?=:)/, `//${hostname()}`)}/` : undefined;
      };
      notifiers.push(new AlertmanagerNotifier({ url: values["alertmanager-url"] as string, context, generatorURL, onError: warn }) as never);
    }
    if (values["alert-webhook"]) {
      const { WebhookNotifier } = await import("../alerts/webhook.ts");
      notifiers.push(new WebhookNotifier({ url: values["alert-webhook"] as string, context, onError: warn }) as never);
    }
    const slow: SlowPhase[] = [];
    const counts: Record<string, number> = {};
    const t0 = session.opts.t0;
    const detector = new SlowPhaseDetector({
      slowFactor: values["slow-factor"] !== undefined ? Number(values["slow-factor"]) : undefined,
      budgets,
      now: nowMs,
      onSlow: (e) => {
        slow.push({ phase: e.phase, allowance_s: e.allowance_s, basis: e.basis, detected_at_s: Math.round((nowMs() - t0)) / 1000, resolved: false });
        counts[e.phase] = (counts[e.phase] ?? 0) + 1;
        warn(`phase ${e.phase} is slow: ${e.elapsed_s.toFixed(1)} s, allowance ${e.allowance_s.toFixed(1)} s (${e.basis})`);
        for (const n of notifiers) n.slow(e);
      },
      onResolve: (e) => {
        for (const s of slow) if (s.phase === e.phase) s.resolved = true;
        for (const n of notifiers) n.resolved(e);
      },
    });
    detector.startupStarted(t0, null);
    session.addPlugin({
      name: "alerts",
      onPhaseStart: (name, _p, t) => {
        // Its successor may be running unseen (segments.ts): time past its allowance is not known
        // to be its own, so it is judged when it ends, not while it runs.
        if (LIVE_MAY_HIDE_NEXT[name] && !session.tracker.info.eager) return;
        detector.phaseStarted(name, t, predictedFor(name), sigmaFor(name));
      },
      onPhaseRetract: (name) => detector.phaseRetracted(name),
      onPhaseEnd: (name, t) => detector.phaseEnded(name, t),
      onEnd: (t) => detector.startupEnded(t),
      slow: () => slow.map((s) => ({ ...s })),
      phaseAttributes: (p) => {
        const s = slow.find((x) => x.phase === p.name);
        const allowance = detector.allowanceFor(p.name, predictedFor(p.name), sigmaFor(p.name));
        const out: Attributes = {};
        if (allowance) out["vllm.startup.phase.allowance_s"] = allowance.allowance_s;
        // "Ran longer than its allowance" (docs/span-contract.md), judged on the final duration: a
        // phase flagged while it ran can turn out shorter once vLLM prints how long it took (the
        // live alert stays on the span as its vllm.startup.slow_phase event).
        if (allowance) out["vllm.startup.phase.slow"] = p.durationS > allowance.allowance_s;
        else if (s) out["vllm.startup.phase.slow"] = true;
        // A live alert fired for this phase (its event is on the span); with "slow" false it was a false alarm.
        if (s) out["vllm.startup.phase.alerted"] = true;
        return out;
      },
      phaseEvents: (p): SpanEvent[] => slow.filter((s) => s.phase === p.name).map((s) => ({
        name: "vllm.startup.slow_phase", timeMs: t0 + s.detected_at_s * 1000,
        attributes: { allowance_s: s.allowance_s, basis: s.basis },
      })),
      stop: () => detector.stop(),
    });
    (session as unknown as { slowCounts: Record<string, number> }).slowCounts = counts;
    stops.push(async () => {
      detector.stop();
      await Promise.race([Promise.all(notifiers.map((n) => n.flush())), Bun.sleep(1500)]);
    });
  } catch (e) {
    warn(`slow-phase alerts unavailable: ${(e as Error).message}`);
  }

  // 4. The HTTP API.
  const listen = values.listen as string | undefined;
  if (listen) {
    try {
      const { startApiServer } = await import("../api/server.ts");
      const { startupMetricsSource } = await import("../api/metrics.ts");
      let token = values["api-token"] as string | undefined;
      if (values["api-token-file"]) token = readFileSync(values["api-token-file"] as string, "utf8").trim();
      const server = await startApiServer({
        listen,
        getSnapshot: () => session.snapshot(),
        metrics: startupMetricsSource(() => session.snapshot(), () => ({
          slowPhases: (session as unknown as { slowCounts?: Record<string, number> }).slowCounts ?? {},
        })),
        apiToken: token,
        insecureListen: !!values["insecure-listen"],
      });
      (session as unknown as { apiUrl?: string }).apiUrl = server.url;
      stops.push(() => server.stop());
    } catch (e) {
      warn(`HTTP API not started: ${(e as Error).message}`);
    }
  }

  return {
    setPid: (pid) => setPid(pid),
    stop: async () => {
      for (const s of stops) {
        try {
          await s();
        } catch { /* best effort */ }
      }
    },
  };
}
