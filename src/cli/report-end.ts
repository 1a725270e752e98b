// What the user gets when a start-up ends: the summary file, the blame table
// on stderr, and where the trace went.
import type { Finalized } from "../session/startup-session.ts";
import type { OptionValues } from "./options.ts";
import type { ExportConfig } from "../trace/otel-config.ts";
import type { DeliveryResult } from "../trace/deliver.ts";
import { writeSummary } from "../trace/summary.ts";
import { renderBlame } from "../report/blame.ts";
import { redactText } from "../redact/redact.ts";
import { warn } from "../report/messages.ts";

export function describeDelivery(d: DeliveryResult): string {
  switch (d.how) {
    case "sent": return `sent to ${redactText(d.url ?? "")}`;
    case "file": return `written to ${d.path}`;
    case "spooled": return `backend unreachable (${d.error}); spooled to ${d.path} — run 'startup-tracer flush' to resend`;
    case "console": return "printed to stderr";
    case "disabled": return "not exported (OTEL_SDK_DISABLED / OTEL_TRACES_EXPORTER=none)";
    case "lost": return `NOT saved: ${d.error}`;
  }
}

export async function reportEnd(f: Finalized, values: OptionValues, _cfg: ExportConfig): Promise<DeliveryResult> {
  const path = values["summary-json"] as string | undefined;
  if (path) {
    try {
      writeSummary(path, f.summary);
    } catch (e) {
      warn(`cannot write --summary-json ${path}: ${(e as Error).message}`);
    }
  }
  const d = await f.delivery.catch((e) => ({ how: "lost", error: String(e) }) as DeliveryResult);
  if (d.how === "lost" || d.how === "spooled") warn(`trace ${describeDelivery(d)}`);
  if (!values.quiet) {
    const color = !!process.stderr.isTTY && !process.env.NO_COLOR;
    try {
      process.stderr.write(renderBlame(f.summary, { color, where: describeDelivery(d) }));
    } catch { /* stderr gone */ }
  }
  return d;
}
