// A small declarative option parser: every subcommand lists its options as
// data; errors are one line and exit with status 2. No dependencies, because
// wrap mode parses its options before it starts the child.

export interface OptionSpec {
  name: string; // without the leading dashes
  type: "string" | "number" | "boolean";
  repeatable?: boolean;
  arg?: string; // placeholder in help
  help: string;
  choices?: readonly string[];
}

export class UsageError extends Error {}

export type OptionValues = Record<string, string | number | boolean | string[] | undefined>;

/**
 * `lenient` (wrap mode, where nothing may stop the child from starting): a value
 * of the wrong kind (not a number, not one of the choices) becomes a warning in
 * `warnings` and the option keeps its default; unknown options and missing
 * values are still usage errors.
 */
export function parseOptions(argv: readonly string[], specs: readonly OptionSpec[], cmd: string,
  opts: { positionals?: number; positionalNames?: string[]; lenient?: boolean } = {}): { values: OptionValues; positionals: string[]; warnings: string[] } {
  const values: OptionValues = {};
  const warnings: string[] = [];
  const bad = (msg: string) => {
    if (!opts.lenient) throw new UsageError(`${cmd}: ${msg}`);
    warnings.push(`${msg}; the default is used`);
  };
  const positionals: string[] = [];
  const byName = new Map(specs.map((s) => [s.name, s]));
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--") {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!a.startsWith("-") || a === "-") {
      positionals.push(a);
      continue;
    }
    const eq = a.indexOf("=");
    const name = (eq > 0 ? a.slice(0, eq) : a).replace(/^--?/, "");
    const spec = byName.get(name);
    if (!spec) throw new UsageError(`${cmd}: unknown option '${eq > 0 ? a.slice(0, eq) : a}' (see --help)`);
    let raw: string | undefined;
    if (spec.type === "boolean") {
      if (eq > 0) throw new UsageError(`${cmd}: option '--${name}' takes no value`);
      values[name] = true;
      continue;
    }
    if (eq > 0) raw = a.slice(eq + 1);
    else if (i + 1 < argv.length) raw = argv[++i];
    if (raw === undefined) throw new UsageError(`${cmd}: option '--${name}' needs a value${spec.arg ? ` (${spec.arg})` : ""}`);
    if (spec.choices && !spec.choices.includes(raw)) {
      bad(`option '--${name}' must be one of ${spec.choices.join(", ")}, not '${raw}'`);
      continue;
    }
    let v: string | number = raw;
    if (spec.type === "number") {
      const n = Number(raw);
      if (!Number.isFinite(n) || raw.trim() === "") {
        bad(`option '--${name}' needs a number, not '${raw}'`);
        continue;
      }
      v = n;
    }
    if (spec.repeatable) ((values[name] as string[] | undefined) ?? (values[name] = [] as string[]) as string[]).push(String(v));
    else values[name] = v;
  }
  if (opts.positionals !== undefined && positionals.length < opts.positionals) {
    const missing = opts.positionalNames?.[positionals.length] ?? "argument";
    throw new UsageError(`${cmd}: missing <${missing}> (see --help)`);
  }
  return { values, positionals, warnings };
}

export function helpText(usage: string, description: string, specs: readonly OptionSpec[]): string {
  const lines = [`Usage: ${usage}`, "", description, "", "Options:"];
  for (const s of specs) {
    const left = `  --${s.name}${s.type === "boolean" ? "" : ` <${s.arg ?? s.type}>`}`;
    lines.push(`${left.padEnd(34)} ${s.help}${s.repeatable ? " (repeatable)" : ""}`);
  }
  return `${lines.join("\n")}\n`;
}

export const COMMON: OptionSpec[] = [
  { name: "help", type: "boolean", help: "show this help" },
  { name: "version", type: "boolean", help: "print the version" },
];

/** Options shared by wrap, import and follow modes. */
export const TRACE_OPTIONS: OptionSpec[] = [
  { name: "summary-json", type: "string", arg: "path", help: "write the start-up summary (startup-tracer.summary/v1) here when it ends" },
  { name: "otlp-endpoint", type: "string", arg: "url", help: "OTLP endpoint, HTTP or, with OTEL_EXPORTER_OTLP_PROTOCOL=grpc, gRPC (overrides OTEL_EXPORTER_OTLP_ENDPOINT)" },
  { name: "state-dir", type: "string", arg: "dir", help: "state directory (default $STARTUP_TRACER_STATE_DIR, $XDG_STATE_HOME/startup-tracer or ~/.local/state/startup-tracer)" },
  { name: "quiet", type: "boolean", help: "no blame table at the end" },
  { name: "no-history", type: "boolean", help: "do not record this start-up in the local history" },
  { name: "gpu", type: "string", arg: "name[xN]", help: "the GPU the start-up runs on, for the prediction when the log or host does not say (e.g. L4, A100x8, \"RTX 4090\", cpu)" },
];

/** Live options shared by wrap and follow modes. */
export const LIVE_OPTIONS: OptionSpec[] = [
  { name: "sample-interval", type: "number", arg: "ms", help: "host sampling interval (default 100; 0 disables sampling)" },
  { name: "listen", type: "string", arg: "addr:port", help: "serve the HTTP API (health, readiness, status, metrics, live page)" },
  { name: "api-token", type: "string", arg: "token", help: "bearer token required by the HTTP API (needed to listen beyond loopback)" },
  { name: "api-token-file", type: "string", arg: "path", help: "read the API token from a file" },
  { name: "insecure-listen", type: "boolean", help: "allow a non-loopback --listen without a token" },
  { name: "slow-factor", type: "number", arg: "x", help: "a phase is slow beyond factor x predicted (+ margin); default 1.5" },
  { name: "budget", type: "string", repeatable: true, arg: "phase=duration", help: "explicit allowance for a phase, or total=duration for readiness" },
  { name: "alertmanager-url", type: "string", arg: "url", help: "post slow-phase alerts to Prometheus Alertmanager (API v2)" },
  { name: "alert-webhook", type: "string", arg: "url", help: "post slow-phase alerts as JSON to this URL" },
  { name: "compile-cache", type: "string", arg: "warm|cold|auto", choices: ["warm", "cold", "auto"], help: "torch.compile cache state for the prediction (default auto)" },
  { name: "model", type: "string", arg: "dir-or-hub-id", help: "model for the prediction when the command line does not say" },
  { name: "exit-timeout", type: "number", arg: "s", help: "at most this long to deliver the trace after the child exits (default 3)" },
  { name: "no-status", type: "boolean", help: "no live status line on a terminal" },
];

export const WRAP_OPTIONS: OptionSpec[] = [
  ...COMMON, ...TRACE_OPTIONS, ...LIVE_OPTIONS,
  { name: "kill-grace", type: "number", arg: "s", help: "after a second SIGTERM, SIGKILL the child after this long (default 10)" },
  { name: "time-scale", type: "number", arg: "N", help: "the child is a replay sped up N times: elapsed time counts N times over, host sampling is off (demo)" },
];
