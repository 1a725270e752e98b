// Subcommands other than wrap mode. Each parses its own options (one-line
// errors, status 2) and loads what it needs only when it runs.
import { existsSync, rmSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { COMMON, helpText, LIVE_OPTIONS, parseOptions, TRACE_OPTIONS, UsageError, type OptionSpec, type OptionValues } from "./options.ts";
import { VERSION } from "../version.ts";
import { say, warn } from "../report/messages.ts";

type Handler = (argv: string[]) => Promise<number>;

function simple(usage: string, description: string, specs: OptionSpec[], positionals: string[],
  body: (values: OptionValues, pos: string[]) => Promise<number>): Handler {
  return async (argv) => {
    const cmd = `startup-tracer ${usage.split(" ")[1]}`;
    try {
      const { values, positionals: pos } = parseOptions(argv, specs, cmd, { positionals: 0 });
      if (values.help) {
        process.stdout.write(helpText(usage, description, specs));
        return 0;
      }
      if (values.version) {
        process.stdout.write(`startup-tracer ${VERSION}\n`);
        return 0;
      }
      if (pos.length < positionals.length) throw new UsageError(`${cmd}: missing <${positionals[pos.length]}> (see --help)`);
      if (pos.length > positionals.length && !usage.includes("...")) throw new UsageError(`${cmd}: unexpected argument '${pos[positionals.length]}' (see --help)`);
      return await body(values, pos);
    } catch (e) {
      if (e instanceof UsageError) {
        process.stderr.write(`${e.message}\n`);
        return 2;
      }
      throw e;
    }
  };
}

const IMPORT_OPTIONS: OptionSpec[] = [...COMMON, ...TRACE_OPTIONS,
  { name: "year", type: "number", arg: "yyyy", help: "year of the log's timestamps (vLLM prints none; default: this year)" }];

const importCmd = simple("startup-tracer import <logfile> [options]",
  "Builds the start-up trace of a finished vLLM log, timed by the log's own timestamps and printed durations.",
  IMPORT_OPTIONS, ["logfile"], async (values, [file]) => {
    const { runImport } = await import("./import.ts");
    return runImport(file, values);
  });

const REPLAY_OPTIONS: OptionSpec[] = [...COMMON,
  { name: "speed", type: "number", arg: "N", help: "divide the recorded pacing by N (default 1)" },
  { name: "exit-when-done", type: "boolean", help: "exit at the end of the recording instead of staying up until signalled" }];

const replayCmd = simple("startup-tracer replay <logfile> [--speed N] [--exit-when-done]",
  "Re-emits a recorded vLLM log on the right streams with its recorded pacing: a stand-in server for demos and tests.",
  REPLAY_OPTIONS, ["logfile"], async (values, [file]) => {
    const speed = values.speed === undefined ? 1 : Number(values.speed);
    if (!(speed > 0)) throw new UsageError(`startup-tracer replay: --speed must be > 0, not '${values.speed}'`);
    if (!existsSync(file)) throw new UsageError(`startup-tracer replay: cannot read '${file}'`);
    const { runReplay } = await import("../process/replay.ts");
    return runReplay(file, speed, !!values["exit-when-done"]);
  });

const DEMO_OPTIONS: OptionSpec[] = [...COMMON,
  { name: "speed", type: "number", arg: "N", help: "replay speed-up (default 20)" },
  { name: "otlp-endpoint", type: "string", arg: "url", help: "also send the trace to this OTLP/HTTP endpoint" },
  { name: "state-dir", type: "string", arg: "dir", help: "state directory for the local trace file" },
  { name: "listen", type: "string", arg: "addr:port", help: "serve the live page and API while the demo runs" }];

/** How to run this same program again (compiled binary, or bun + script). */
export function selfCommand(): string[] {
  const main = Bun.main;
  return main.includes("$bunfs") || main === process.execPath ? [process.execPath] : [process.execPath, main];
}

export function demoLogPath(): string {
  const candidates = [
    join(dirname(Bun.main), "..", "..", "demo", "vllm-0.11.0-dgx-spark-mistral7b.log"),
    join(dirname(process.execPath), "..", "demo", "vllm-0.11.0-dgx-spark-mistral7b.log"),
    resolve("demo", "vllm-0.11.0-dgx-spark-mistral7b.log"),
  ];
  return candidates.find((c) => existsSync(c)) ?? candidates[candidates.length - 1];
}

const demoCmd = simple("startup-tracer demo [options]",
  "Wraps `replay` of a real recorded vLLM start-up (demo/, source in demo/SOURCE.md) and shows the result.",
  DEMO_OPTIONS, [], async (values) => {
    let log = demoLogPath();
    let builtIn = false;
    if (!existsSync(log)) {
      // Installed without the repository beside it (the container image): the copy built into the binary.
      const { writeBuiltInDemoLog } = await import("./demo-log.ts");
      log = writeBuiltInDemoLog();
      builtIn = true;
    }
    const speed = String(values.speed ?? 20);
    // The replay's elapsed time is scaled back up, so the trace has the recorded start-up's
    // timeline; a demo is not a start-up of this host, so it stays out of the history.
    const args = ["--time-scale", speed, "--no-history"];
    for (const k of ["otlp-endpoint", "state-dir", "listen"]) if (values[k] !== undefined) args.push(`--${k}`, String(values[k]));
    say(`demo: replaying a real vLLM 0.11.0 start-up (${log}) ${speed}x faster than recorded;`);
    say(`demo: the trace counts its time ${speed}x over, so it shows the recorded start-up's timeline (host sampling is off)`);
    const proc = Bun.spawn([...selfCommand(), ...args, "--", ...selfCommand(), "replay", log, "--speed", speed, "--exit-when-done"], {
      stdin: "inherit", stdout: "inherit", stderr: "inherit",
    });
    const code = await proc.exited;
    if (builtIn) rmSync(dirname(log), { recursive: true, force: true });
    return code;
  });

const FLUSH_OPTIONS: OptionSpec[] = [...COMMON,
  { name: "otlp-endpoint", type: "string", arg: "url", help: "send to this endpoint instead of the one each trace was meant for" },
  { name: "state-dir", type: "string", arg: "dir", help: "state directory holding the spool" },
  { name: "timeout", type: "number", arg: "s", help: "give up after this long (default 30)" }];

const flushCmd = simple("startup-tracer flush [options]",
  "Sends the traces that earlier runs could not deliver (the spool under the state directory).",
  FLUSH_OPTIONS, [], async (values) => {
    const [{ readExportConfig }, { flushSpool }, { defaultStateDir }] = await Promise.all([
      import("../trace/otel-config.ts"), import("../trace/deliver.ts"), import("../state/state-dir.ts")]);
    const cfg = readExportConfig(process.env, { otlpEndpoint: values["otlp-endpoint"] as string | undefined });
    for (const w of cfg.warnings) warn(w);
    const dir = (values["state-dir"] as string | undefined) ?? defaultStateDir();
    const r = await flushSpool(dir, cfg, Date.now() + Number(values.timeout ?? 30) * 1000);
    say(`flush: ${r.sent} sent, ${r.failed} failed, ${r.remaining} still spooled`);
    for (const e of r.errors.slice(0, 5)) warn(e);
    return r.failed > 0 ? 1 : 0;
  });

const FOLLOW_OPTIONS: OptionSpec[] = [...COMMON, ...TRACE_OPTIONS, ...LIVE_OPTIONS,
  { name: "pid", type: "number", arg: "pid", help: "sample this process tree (needs a shared process namespace in Kubernetes)" },
  { name: "process-name", type: "string", arg: "name", help: "find the process to sample by its command name" },
  { name: "from-end", type: "boolean", help: "start at the end of an existing file instead of its beginning" }];

const followCmd = simple("startup-tracer follow <logfile> [options]",
  "Follows a log file another container writes (sidecar mode): survives the file not existing yet, truncation and rotation.",
  FOLLOW_OPTIONS, ["logfile"], async (values, [file]) => {
    const { runFollow } = await import("./follow.ts");
    return runFollow(file, values);
  });

const ADVISE_OPTIONS: OptionSpec[] = [...COMMON,
  { name: "json", type: "boolean", help: "machine output: {schema: startup-tracer.advice/v1, advice: [{lever, phase, saving_s, evidence, action, ...}]}" },
  { name: "state-dir", type: "string", arg: "dir", help: "state directory (local predictor calibration)" },
  { name: "year", type: "number", arg: "yyyy", help: "year of a log's timestamps (vLLM prints none; default: this year)" }];

const adviseCmd = simple("startup-tracer advise <trace|summary|log> [--json]",
  "Says which lever would shorten a recorded start-up, by how many seconds (input: a trace file, a summary JSON or a vLLM log).",
  ADVISE_OPTIONS, ["trace|summary|log"], async (values, [file]) => {
    const { runAdvise } = await import("./commands/advise.ts");
    return runAdvise(file, values);
  });

const HANDLERS: Record<string, Handler> = {
  import: importCmd,
  advise: adviseCmd,
  replay: replayCmd,
  demo: demoCmd,
  flush: flushCmd,
  follow: followCmd,
  predict: async (argv) => (versionOnly(argv) ?? (await import("./commands/predict.ts")).run(argv)),
  fit: async (argv) => (versionOnly(argv) ?? (await import("./commands/fit.ts")).run(argv)),
  help: async () => {
    process.stdout.write(`startup-tracer ${VERSION}: traces vLLM start-up phases as OpenTelemetry spans.

  startup-tracer [options] -- <command> [args...]   wrap a server (e.g. vllm serve MODEL)
  startup-tracer import <logfile>                   trace a finished log
  startup-tracer advise <trace|summary|log>         what to try next, with the seconds it saves
  startup-tracer replay <logfile> [--speed N]       re-emit a recorded log (a stand-in server)
  startup-tracer demo                               wrap a replay of a real start-up
  startup-tracer follow <logfile>                   sidecar: follow a log file
  startup-tracer predict --model <dir-or-hub-id>    predict the start-up per phase
  startup-tracer fit                                calibrate the predictor from local history
  startup-tracer flush                              resend spooled traces

Every command has --help.
`);
    return 0;
  },
};

function versionOnly(argv: string[]): number | null {
  if (!argv.includes("--version")) return null;
  process.stdout.write(`startup-tracer ${VERSION}\n`);
  return 0;
}

export async function runSubcommand(name: string, argv: string[]): Promise<number> {
  return HANDLERS[name](argv);
}
