// JavaScriptCore's top tier (FTL) costs the tracer more CPU to compile than it
// saves on the hot paths of a start-up: in a 100k-line DEBUG start-up its
// compile threads spent ~60 ms on FTL code for functions that then run a few
// tens of ms in all (measured with BUN_JSC_reportFTLCompileTimes=1;
// BUN_JSC_useFTLJIT=0 cut the tracer's CPU by ~50 ms). The tracer's hot
// functions are therefore kept at the DFG tier, which compiles 2-4 times
// faster. Best effort: outside Bun, or without bun:jsc, nothing happens.

type Fn = (...args: never[]) => unknown;
let noFTL: ((f: Fn) => void) | null | undefined;

export function keepBelowFTL(...fns: Fn[]): void {
  if (noFTL === undefined) {
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      noFTL = (require("bun:jsc") as { noFTL?: (f: Fn) => void }).noFTL ?? null;
    } catch {
      noFTL = null;
    }
  }
  if (!noFTL) return;
  for (const f of fns) {
    try {
      noFTL(f);
    } catch { /* not a JS function */ }
  }
}
