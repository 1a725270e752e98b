// The corpus of real vLLM logs, found by walking the folder: a log added to
// ../shared/vllm-logs/ (or demo/) is covered by every data-driven test without a code change.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { LOGS, ROOT } from "./tracer.ts";

export interface CorpusLog {
  /** Path relative to ../shared/vllm-logs (or "demo/..."). */
  name: string;
  path: string;
}

function walk(dir: string, out: string[]): void {
  for (const f of readdirSync(dir).sort()) {
    const p = join(dir, f);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (f.endsWith(".log")) out.push(p);
  }
}

export function corpusLogs(): CorpusLog[] {
  const paths: string[] = [];
  walk(LOGS, paths);
  const demo: string[] = [];
  walk(join(ROOT, "demo"), demo);
  return [...paths.map((p) => ({ name: relative(LOGS, p), path: p })), ...demo.map((p) => ({ name: relative(ROOT, p), path: p }))];
}

/** What an INFO-level server prints of a DEBUG log: every DEBUG record removed. */
export function withoutDebug(text: string): string {
  return text.split("\n").filter((l) => !/\bDEBUG\b/.test(l)).join("\n");
}

export function hasDebug(path: string): boolean {
  return /\bDEBUG \d\d-\d\d /.test(readFileSync(path, "utf8"));
}
