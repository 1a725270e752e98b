// Entry point. In wrap mode the child is started before anything else is
// loaded: this module imports only the option table, the trace-id helper and
// the spawner; everything else arrives by dynamic import afterwards.
import { holdSignals, startChild } from "../process/child.ts";
import { newTraceIds, traceparentFor } from "../trace/trace-ids.ts";
import { helpText, parseOptions, UsageError, WRAP_OPTIONS } from "./options.ts";
import { VERSION } from "../version.ts";

const SUBCOMMANDS = new Set(["import", "advise", "replay", "demo", "follow", "predict", "fit", "flush", "help"]);

const WRAP_USAGE = "startup-tracer [options] -- <command> [args...]";
const WRAP_DESCRIPTION = `Runs <command> (e.g. vllm serve MODEL ...) as a child, passes its output through unchanged,
and traces its start-up phases as OpenTelemetry spans.

Subcommands: import <logfile>, advise <trace|summary|log>, replay <logfile>, demo, follow <logfile>, predict, fit, flush
(each has --help).`;

async function main(argv: string[]): Promise<number> {
  if (argv.length > 0 && SUBCOMMANDS.has(argv[0])) {
    const { runSubcommand } = await import("./subcommands.ts");
    return runSubcommand(argv[0], argv.slice(1));
  }
  const dd = argv.indexOf("--");
  const own = dd >= 0 ? argv.slice(0, dd) : argv;
  let values;
  let optionWarnings: string[] = [];
  try {
    // Lenient: a malformed value must not keep the server from starting (a warning follows the spawn).
    ({ values, warnings: optionWarnings } = parseOptions(own, WRAP_OPTIONS, "startup-tracer", { lenient: true }));
    if (values.help) {
      process.stdout.write(helpText(WRAP_USAGE, WRAP_DESCRIPTION, WRAP_OPTIONS));
      return 0;
    }
    if (values.version) {
      process.stdout.write(`startup-tracer ${VERSION}\n`);
      return 0;
    }
    if (own.length > 0 && dd < 0) {
      const first = own.find((a) => !a.startsWith("-"));
      throw new UsageError(first ? `startup-tracer: unknown command '${first}' (see --help)` : "startup-tracer: missing '-- <command>' (see --help)");
    }
    if (dd < 0 || dd === argv.length - 1) throw new UsageError("startup-tracer: missing <command> after '--' (see --help)");
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`${e.message}\n`);
      return 2;
    }
    throw e;
  }
  const command = argv.slice(dd + 1);
  const ids = newTraceIds(process.env);
  const env: Record<string, string | undefined> = { ...process.env, TRACEPARENT: traceparentFor(ids) };
  if (ids.traceState) env.TRACESTATE = ids.traceState;
  // Held from before the spawn: a signal the moment the child exists must not end us and orphan it.
  const held = holdSignals();
  let child;
  try {
    // The status line on a terminal redraws between the child's output, so it needs the stream pump.
    const statusLine = !!process.stderr.isTTY && !values["no-status"] && !values.quiet;
    child = startChild(command, env, { fast: !statusLine });
  } catch (e) {
    held.release();
    process.stderr.write(`startup-tracer: cannot start '${command[0]}': ${(e as Error).message}\n`);
    return 127;
  }
  const { runWrap } = await import("./wrap.ts");
  if (optionWarnings.length) {
    const { warn } = await import("../report/messages.ts"); // loaded with wrap.ts; redacts
    for (const w of optionWarnings) warn(w);
  }
  return runWrap(child, values, ids, held.release);
}

// No top-level await: the binary is compiled to bytecode (CommonJS), which saves parsing
// the whole bundle at every start (about 30 ms before the child could be spawned).
void main(process.argv.slice(2)).catch((e) => {
  try {
    process.stderr.write(`startup-tracer: internal error: ${(e as Error)?.message ?? e}\n`);
  } catch { /* nothing left to report to */ }
  return 70;
}).then(async (code) => {
  const { exitAfterDrain } = await import("../process/exit.ts");
  await exitAfterDrain(code);
});
