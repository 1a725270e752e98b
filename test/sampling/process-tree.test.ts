// Process-tree tracking across a child that forks grandchildren mid-run.
import { expect, test } from "bun:test";
import { join } from "node:path";
import { createSampler } from "../../src/sampling/sampler.ts";
import { A } from "../../src/sampling/attributes.ts";
import { ProcessTree, parsePidStat } from "../../src/sampling/process-tree.ts";
import { BUN, FIXTURES, runChild } from "./helpers.ts";
import { nowMs } from "../../src/sampling/read-proc.ts";

test("grandchildren forked mid-run are tracked; CPU of exited ones is kept, not double-counted", async () => {
  const sampler = createSampler({ intervalMs: 100, gpu: false });
  const t0 = nowMs();
  const child = runChild(["bash", join(FIXTURES, "forking-child.sh"), BUN, join(FIXTURES, "burn.ts")]);
  sampler.start(child.proc.pid);
  const mid = sampler.summarize(t0, t0 + 1); // nothing yet
  const timesLine = await child.waitFor("TIMES");
  const end = nowMs();
  const all = sampler.summarize(t0, end);
  const tree = (sampler as unknown as { debug(): { tree: ProcessTree } }).debug().tree;
  await child.done;
  await sampler.stop();

  const truth = Number(timesLine.split(" ")[1]); // bash's own + reaped children's CPU seconds
  const pids = child.lines.filter((l) => l.startsWith("PID ")).map((l) => Number(l.split(" ")[2]));
  console.log({ truth, cpu: all[A.procCpuTime], procs: all[A.procCountMax], pids, seen: [...tree.seenPids] });
  expect(mid[A.procCpuTime] ?? 0).toBeLessThan(0.2);
  // Every burner and the great-grandchild (which outlives its parent) was seen.
  expect(pids.length).toBe(4);
  for (const p of pids) expect(tree.seenPids.has(p)).toBe(true);
  expect(all[A.procCountMax] as number).toBeGreaterThanOrEqual(5); // bash + 3 burners + sleep
  // CPU: equal to the shell's own `times` (+ the few ms after it), within 10 %.
  expect(truth).toBeGreaterThan(2.5);
  const cpu = all[A.procCpuTime] as number;
  expect(cpu).toBeGreaterThan(truth * 0.9);
  expect(cpu).toBeLessThan(truth * 1.1 + 0.05);
}, 30000);

test("fallback discovery through /proc/*/stat finds the same descendants", async () => {
  // Force the fallback by pretending the children files are unsupported.
  const tree = new ProcessTree({ fullEvery: 1 });
  (tree as unknown as { childrenSupported: boolean }).childrenSupported = false;
  const child = runChild(["bash", "-c", "sleep 0.3; (sleep 1.5 & sleep 1.5 & wait); true"]);
  tree.setRoot(child.proc.pid);
  tree.sample();
  await Bun.sleep(600);
  const t = tree.sample();
  expect(t.processes).toBeGreaterThanOrEqual(3);
  await child.done;
});

test("parsePidStat copes with spaces and parentheses in comm", () => {
  const s = parsePidStat("42 (a (weird) name) S 1 42 42 0 -1 4194560 1 0 0 0 150 25 7 3 20 0 9 0 12345 100 77 0");
  expect(s).not.toBeNull();
  expect(s!.comm).toBe("a (weird) name");
  expect(s!.ppid).toBe(1);
  expect(s!.utime).toBe(150);
  expect(s!.stime).toBe(25);
  expect(s!.cutime).toBe(7);
  expect(s!.cstime).toBe(3);
  expect(s!.threads).toBe(9);
  expect(s!.startTime).toBe(12345);
  expect(s!.rssPages).toBe(77);
});

test("follow mode: host-only until setRootPid, then the tree without its pre-attach history", async () => {
  const child = runChild([BUN, join(FIXTURES, "burn.ts"), "1.2"]);
  await Bun.sleep(500); // it has already burnt some CPU before we attach
  const sampler = createSampler({ intervalMs: 100, gpu: false });
  const t0 = nowMs();
  sampler.start(0);
  await Bun.sleep(300);
  const before = sampler.summarize(t0, nowMs());
  expect(before[A.procCpuTime]).toBeUndefined();
  expect(before[A.systemCpuMean]).toBeDefined();
  const tAttach = nowMs();
  sampler.setRootPid(child.proc.pid);
  await child.done;
  const after = sampler.summarize(t0, nowMs());
  await sampler.stop();
  // Only what it burnt after attach (1.2 s total minus what it had used before) is counted.
  expect(after[A.procCpuTime] as number).toBeGreaterThan(0.1);
  expect(after[A.procCpuTime] as number).toBeLessThan(1.15);
  expect(tAttach).toBeGreaterThan(t0);
}, 20000);
