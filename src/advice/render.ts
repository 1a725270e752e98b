// The advice as a few lines under the blame table: biggest saving first,
// nothing at all when no lever applies.
import type { AdviceItem } from "./advise.ts";

export function renderAdvice(items: AdviceItem[] | undefined, opts: { color: boolean; width?: number } = { color: false }): string {
  if (!items || items.length === 0) return "";
  const c = (code: string, s: string) => (opts.color ? `\x1b[${code}m${s}\x1b[0m` : s);
  const out = [`  ${c("1", "what to try")} (predicted saving on this start-up; \`startup-tracer advise\` has the details)`];
  for (const a of items) {
    const head = `  ${`-${a.saving_s >= 10 ? a.saving_s.toFixed(0) : a.saving_s.toFixed(1)} s`.padStart(7)}  ${a.lever.padEnd(24)} ${a.phase}`;
    out.push(`${c("32", head)}`);
    out.push(`           ${a.evidence}`);
    out.push(`           → ${a.action}`);
  }
  return `${out.join("\n")}\n`;
}
