// startup-tracer advise <trace file | summary JSON | log> [--json]
// What to try next for a start-up already recorded: the same advice the end
// table, the summary's `advice` and the root span carry (src/advice/).
import { advise, totalSaving, type AdviceItem } from "../../advice/advise.ts";
import { AdviceInputError, loadStartup } from "../../advice/inputs.ts";
import { UsageError, type OptionValues } from "../options.ts";
import { redactDeep, redactText } from "../../redact/redact.ts";

export async function runAdvise(file: string, values: OptionValues): Promise<number> {
  let loaded;
  try {
    loaded = await loadStartup(file, { year: values.year as number | undefined, stateDir: values["state-dir"] as string | undefined });
  } catch (e) {
    if (e instanceof AdviceInputError) throw new UsageError(`startup-tracer advise: ${e.message}`);
    throw e;
  }
  const { record, context, kind } = loaded;
  const items: AdviceItem[] = redactDeep(advise(record, context));
  if (values.json) {
    process.stdout.write(`${JSON.stringify({
      schema: "startup-tracer.advice/v1", input: kind, model: record.model, engine_version: record.engine_version,
      outcome: record.outcome, total_s: record.total_s, ready_s: record.ready_s, total_saving_s: totalSaving(items), advice: items,
    }, null, 2)}\n`);
    return 0;
  }
  const head = record.outcome === "ready" && record.ready_s !== null ? `ready in ${record.ready_s.toFixed(1)} s` : `${record.outcome} after ${record.total_s.toFixed(1)} s`;
  const out: string[] = [redactText(`startup-tracer advise: vLLM ${record.engine_version ?? "(version unknown)"} ${record.model ?? ""} — ${head} (from a ${kind})`).replace(/\s+—/, " —")];
  if (items.length === 0) {
    out.push("  nothing to try: no lever applies to what this start-up shows (see README \"Advice\" for the rules)");
  } else {
    items.forEach((a, i) => {
      out.push(`  ${i + 1}. ${a.lever} on ${a.phase}: save ~${a.saving_s.toFixed(1)} s (${a.phase_s.toFixed(1)} s -> ${a.after_s.toFixed(1)} s)`);
      out.push(`     evidence: ${a.evidence}`);
      out.push(`     do:       ${a.action}`);
      out.push(`     basis:    ${a.source}`);
    });
    out.push(`  together: ~${totalSaving(items).toFixed(1)} s (levers on one phase compound, so their savings add up)`);
  }
  process.stdout.write(`${out.join("\n")}\n`);
  return 0;
}
