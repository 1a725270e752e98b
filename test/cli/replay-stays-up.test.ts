// The stand-in server stays up after its recording ends, until it is signalled
// (README: `replay` without --exit-when-done), and so does the API of a tracer wrapped around it.
import { expect, test } from "bun:test";
import { join } from "node:path";
import { freePort, LOGS, tempStateDir, tracerCmd } from "../helpers/tracer.ts";

const QWEN = join(LOGS, "paper-h100nvl", "v0.10.1.1-h100nvl-qwen-0.5b.log");

async function until(pred: () => Promise<boolean> | boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await pred()) return true;
    await Bun.sleep(100);
  }
  return false;
}

test("replay without --exit-when-done is still up after its recording ends; SIGTERM ends it with 0", async () => {
  const proc = Bun.spawn([...tracerCmd(), "replay", QWEN, "--speed", "200"], { stdout: "pipe", stderr: "pipe", stdin: "ignore" });
  const out = new Response(proc.stdout).text();
  let exited = false;
  void proc.exited.then(() => { exited = true; });
  // The recording is ~22 s: at 200x it has ended after 3 s, even on a loaded machine.
  await Bun.sleep(3000);
  expect(exited).toBe(false);
  proc.kill("SIGTERM");
  expect(await proc.exited).toBe(0);
  expect(await out).toContain("init engine");
}, 30_000);

test("a wrapped replay keeps the tracer's API answering after readiness", async () => {
  const port = freePort();
  const state = tempStateDir();
  const proc = Bun.spawn([...tracerCmd(), "--listen", `127.0.0.1:${port}`, "--state-dir", state, "--no-history", "--quiet", "--",
    ...tracerCmd(), "replay", QWEN, "--speed", "100"], { stdout: "ignore", stderr: "ignore", stdin: "ignore" });
  const url = `http://127.0.0.1:${port}`;
  const ok = async (path: string) => (await fetch(url + path).catch(() => null))?.status === 200;
  expect(await until(() => ok("/readyz"), 20_000)).toBe(true);
  await Bun.sleep(2000);
  expect(await ok("/healthz")).toBe(true);
  expect(await ok("/metrics")).toBe(true);
  proc.kill("SIGTERM");
  expect(await proc.exited).toBe(0);
}, 40_000);
