// The demo's recorded start-up, built into the binary (11 kB; demo/SOURCE.md
// says where it comes from), so `startup-tracer demo` works wherever the
// binary is installed, the container image included. Loaded only by `demo`.
import DEMO_LOG from "../../demo/vllm-0.11.0-dgx-spark-mistral7b.log" with { type: "text" };
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const DEMO_LOG_NAME = "vllm-0.11.0-dgx-spark-mistral7b.log";

/** Writes the built-in copy to a fresh temporary directory (replay reads a file); returns its path. */
export function writeBuiltInDemoLog(): string {
  const path = join(mkdtempSync(join(tmpdir(), "startup-tracer-demo-")), DEMO_LOG_NAME);
  writeFileSync(path, DEMO_LOG);
  return path;
}
