// Wrap mode after the child is running: passthrough first, then everything
// else lazily. Nothing here may change how the child runs or how it exits.
import { isatty } from "node:tty";
import { constants } from "node:os";
import type { StartedChild } from "../process/child.ts";
import { FastPassthrough, OutputSink, pump, pumpFd, type StreamPump } from "../process/passthrough.ts";
import { FORWARDED_SIGNALS, nowMs } from "../process/child.ts";
import { anchorTimeline, onTimeline, setTimeScale, timeScale } from "../state/session-clock.ts";
import { startReaper } from "../process/reaper.ts";
import { beatPeriodMs, Heartbeat } from "../process/heartbeat.ts";
import { noteOutput } from "../process/jit-policy.ts";
import type { TraceIds } from "../trace/trace-ids.ts";
import type { OptionValues } from "./options.ts";
import { StartupSession, type Finalized, type TimedSplitter } from "../session/startup-session.ts";
import { readExportConfig } from "../trace/otel-config.ts";
import { learnSecrets, redactArgs } from "../redact/redact.ts";
import { defaultStateDir } from "../state/state-dir.ts";
import { childStderrChunk, say, setBeforeMessage, setStderrWriter, warn } from "../report/messages.ts";
import { StatusLine } from "../report/status-line.ts";
import { reportEnd } from "./report-end.ts";
import { loadLivePlugins } from "../session/live-plugins.ts";


export function exitStatus(code: number | null, signal: string | null): number {
  if (signal) {
    const n = (constants.signals as Record<string, number>)[signal];
    return 128 + (n ?? 0);
  }
  return code ?? 1;
}

/** `--time-scale N` (a replay sped up N times); returns a warning for a bad value, which is ignored. */
function applyTimeScale(values: OptionValues, startedAt: number): string | null {
  if (values["time-scale"] === undefined) return null;
  const n = Number(values["time-scale"]);
  if (!(n > 0) || !Number.isFinite(n)) return `ignoring invalid --time-scale ${JSON.stringify(String(values["time-scale"]))}: expected a number > 0`;
  setTimeScale(n, startedAt);
  return null;
}

/** Whether our stdin (which the child inherits) is a terminal; never reads from it. */
function stdinIsTerminal(): boolean {
  try {
    return isatty(0);
  } catch {
    return false;
  }
}

/** Reads the subcommand after `vllm` (serve = a server that becomes HTTP-ready). */
export function isServerCommand(argv: readonly string[]): boolean {
  return argv.some((a, i) => a === "serve" && i <= 2) || argv.some((a) => a.includes("openai.api_server") || a.includes("api_server"));
}

/** The live status line on a terminal (it shares stderr with the child, so the stream pump is used then). */
export function wantsStatusLine(values: OptionValues): boolean {
  return !!process.stderr.isTTY && !values["no-status"] && !values.quiet;
}

export async function runWrap(child: StartedChild, values: OptionValues, ids: TraceIds,
  releaseHeldSignals: () => string[] = () => []): Promise<number> {
  const { proc } = child;
  const timeScaleWarning = applyTimeScale(values, child.startedAt);
  if (timeScale() !== 1) values = { ...values, "sample-interval": 0 }; // the host's samples are on the real clock
  // Signals go to the child; a second SIGTERM is followed by SIGKILL after a grace period.
  // Installed before any of the child's output is passed on: whoever has seen it may signal us.
  let terms = 0;
  const grace = Math.max(0, Number(values["kill-grace"] ?? 10)) * 1000;
  // On a terminal, Ctrl-C and Ctrl-\ go to the whole foreground process group, the child
  // included (it shares ours): forwarding them too would hand vLLM a second one, which
  // cuts its graceful shutdown short (uvicorn force-quits on a second SIGINT).
  const keyboardReachesChild = stdinIsTerminal();
  const forward = (sig: string) => {
    if (keyboardReachesChild && (sig === "SIGINT" || sig === "SIGQUIT")) return;
    try {
      proc.kill(sig as NodeJS.Signals);
    } catch { /* already gone */ }
    if (sig === "SIGTERM" && ++terms === 2) {
      setTimeout(() => {
        try {
          if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGKILL");
        } catch { /* gone */ }
      }, grace).unref();
    }
  };
  for (const sig of FORWARDED_SIGNALS) process.on(sig, () => forward(sig));
  for (const sig of releaseHeldSignals()) forward(sig); // arrived while this module was loading

  // Passthrough and parsing start before any other set-up work.
  let session: StartupSession | null = null;
  let outSplit: TimedSplitter | null = null;
  let errSplit: TimedSplitter | null = null;
  const pending: [number, Uint8Array, number][] = [];
  const feed = (stream: number, chunk: Uint8Array, tWall = nowMs()) => {
    anchorTimeline(tWall);
    const t = onTimeline(tWall);
    noteOutput(chunk.length);
    const s = stream === 1 ? outSplit : errSplit;
    if (s) {
      s.pushAt(chunk, t);
      session!.pollEnd(); // readiness is acted on as soon as its line is parsed
    }
    else if (pending.length < 4096) pending.push([stream, chunk.slice(), t]);
  };
  let status: StatusLine | null = null;
  const closedWarning = (why: string) => warn(`own stdout closed (${why}); the child's output now goes only to the trace`);
  // The main thread's one periodic timer: parser pulls, sampling and the end check share its wake-ups.
  const sampleMs = values["sample-interval"] === undefined ? 100 : Number(values["sample-interval"]);
  const beat = new Heartbeat(beatPeriodMs(sampleMs));
  let pumps: Promise<void>[];
  let streamPumps: StreamPump[] = [];
  let fast: FastPassthrough | null = null;
  let outSink: OutputSink | null = null;
  let fallbackWhy: string | null = null;
  if (child.fds) {
    try {
      // Native copier threads (src/process/fast-pump.ts); the parser takes their output on every beat.
      fast = new FastPassthrough(child.fds, feed, beat, closedWarning);
    } catch (e) {
      fallbackWhy = (e as Error).message; // reported once the session is set up (below)
    }
  }
  if (fast) pumps = fast.finished;
  else {
    // The status line (on the same terminal) is cleared before any of the child's output is written.
    outSink = new OutputSink(process.stdout, closedWarning, () => status?.clear());
    const errSink = new OutputSink(process.stderr, undefined, () => status?.clear());
    setStderrWriter((text) => errSink.writeText(text)); // our messages keep their place among the child's
    const onOut = (c: Uint8Array) => feed(1, c);
    const onErr = (c: Uint8Array) => { childStderrChunk(c); feed(2, c); };
    streamPumps = child.fds
      ? [pumpFd(child.fds.out, outSink, onOut), pumpFd(child.fds.err, errSink, onErr)]
      : [pump(proc.stdout, outSink, onOut), pump(proc.stderr, errSink, onErr)];
    pumps = streamPumps.map((p) => p.done);
  }

  // As PID 1 (a container entrypoint), exited orphans are reaped (src/process/reaper.ts).
  const stopReaper = startReaper(proc.pid);

  // Now the rest, none of which may fail the child.
  learnSecrets(process.env, child.argv);
  const exportConfig = readExportConfig(process.env, { otlpEndpoint: values["otlp-endpoint"] as string | undefined });
  for (const w of exportConfig.warnings) warn(w);
  if (timeScaleWarning) warn(timeScaleWarning);
  if (fallbackWhy) warn(`native output copier unavailable (${fallbackWhy}); copying the child's output with Bun's streams`);
  const stateDir = (values["state-dir"] as string | undefined) ?? defaultStateDir();
  session = new StartupSession({
    ids, mode: "wrap", t0: child.startedAt, exportConfig, stateDir, command: child.argv,
    serverMode: isServerCommand(child.argv), eager: child.argv.includes("--enforce-eager"),
  });
  outSplit = session.newStream();
  errSplit = session.newStream();
  for (const [s, c, t] of pending.splice(0)) (s === 1 ? outSplit : errSplit).pushAt(c, t);

  if (!fast && wantsStatusLine(values)) {
    status = new StatusLine(() => session!.snapshot(), !process.env.NO_COLOR);
    setBeforeMessage(() => status?.clear());
  }

  // The child, under OpenTelemetry's process.* conventions (command line redacted).
  let exitCode: number | null = null;
  session.addPlugin({
    name: "child",
    rootAttributes: () => {
      const args = redactArgs(child.argv);
      const serve = args.indexOf("serve");
      return {
        "process.pid": proc.pid,
        "process.executable.name": (args[0] ?? "").split("/").pop() ?? "",
        "process.command_args": args,
        "vllm.startup.args": serve >= 0 ? args.slice(serve + 1) : args.slice(1),
        ...(exitCode !== null ? { "process.exit.code": exitCode } : {}),
        // A sped-up replay (--time-scale): its times are scaled, and no host was sampled.
        ...(timeScale() !== 1 ? { "vllm.startup.time_scale": timeScale() } : {}),
      };
    },
  });

  const live = loadLivePlugins(session, values, { pid: proc.pid, argv: child.argv, env: process.env, stateDir, mode: "wrap", beat })
    .catch((e) => {
      warn(`live features unavailable: ${(e as Error).message}`);
      return null;
    });

  const reported = new Promise<void>((resolve) => {
    session!.onEnd((f: Finalized) => {
      fast?.stopParsing();
      status?.stop();
      reportEnd(f, values, exportConfig).finally(resolve);
    });
  });
  // The start-up ends at readiness or failure, long before a server exits.
  // Lines are checked as they are parsed (feed); this covers a failure's grace period.
  const unwatch = beat.add(() => session!.pollEnd(), 250);

  await proc.exited;
  // The exit timeout counts from the child's exit, whatever happens after it.
  const exitTimeout = Math.max(0.2, Number(values["exit-timeout"] ?? 3)) * 1000;
  const deadline = Date.now() + exitTimeout;
  // Grandchildren may still hold the pipes open; do not wait for them for long.
  await Promise.race([Promise.all(pumps), Bun.sleep(500)]);
  fast?.pull();
  unwatch();
  const signal = (proc.signalCode as string | null) ?? null;
  const code = exitStatus(proc.exitCode, signal);
  exitCode = code;
  try {
    const f = await session.finalize("exit", { code: proc.exitCode, signal });
    // Whatever is not delivered shortly before the deadline goes to the spool.
    const cut = setTimeout(() => session!.cutDelivery(), Math.max(0, deadline - Date.now() - 300));
    await Promise.race([f.delivery, Bun.sleep(Math.max(0, deadline - Date.now()))]);
    clearTimeout(cut);
    session.cutDelivery();
    await Promise.race([reported, Bun.sleep(Math.max(50, deadline - Date.now()))]);
  } catch (e) {
    say(`could not finish the trace: ${(e as Error).message}`);
  }
  // The live features finish loading (their option warnings are printed even for a child that
  // exited at once) and stop, within what is left of the exit timeout.
  await Promise.race([live.then((l) => l?.stop()), Bun.sleep(Math.max(200, deadline - Date.now()))]);
  // The child's output that a slow reader has not taken yet is still written
  // out (the copier, or the stream pump, gives up on a reader that takes nothing).
  await Promise.all([fast?.drained(), ...streamPumps.map((p) => p.settle())]);
  setStderrWriter(null); // what follows is written directly, before the exit
  status?.stop();
  fast?.stop();
  beat.stop();
  stopReaper?.();
  const dropped = fast ? fast.stdout.stats.droppedBytes : outSink!.stats.droppedBytes;
  if (dropped) warn(`${dropped} bytes of the child's stdout could not be written to our stdout`);
  return code;
}
