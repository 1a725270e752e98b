// Measures the tracer's own CPU time while sampling (host + process tree, and
// optionally GPU through the nvidia-smi stand-in) and prints it per minute of
// sampling, next to the 1 %-of-one-core target.
//
//   bun bench/sampler-cost.ts [--seconds 20] [--interval 100] [--procs 4] [--gpu-standin]
//
// The sampled tree is a bash parent with --procs idle bun children (each has
// several threads, like vLLM's API server / EngineCore / workers), so discovery
// and per-process reads are exercised. The figure is this process's whole CPU
// time (process.cpuUsage: timer wake-ups, /proc reads, parsing, GC), so it is an
// upper bound on the sampler's cost. nvidia-smi's own CPU (a separate process)
// is not included.

import { join } from "node:path";
import { createSampler } from "../src/sampling/sampler.ts";
import { A } from "../src/sampling/attributes.ts";

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
}
const seconds = arg("seconds", 20);
const intervalMs = arg("interval", 100);
const procs = arg("procs", 4);
const gpuStandin = process.argv.includes("--gpu-standin");

const idle = `setInterval(() => {}, 1000);`;
const tree = Bun.spawn(
  ["bash", "-c", `for i in $(seq ${procs}); do "${process.execPath}" -e '${idle}' & done; wait`],
  { stdout: "ignore", stderr: "inherit" },
);
await Bun.sleep(1500); // let the children start

const sampler = createSampler({
  intervalMs,
  gpu: gpuStandin,
  nvidiaSmiPath: gpuStandin ? join(import.meta.dir, "..", "test", "fixtures", "nvidia-smi", "nvidia-smi") : undefined,
});
const t0 = performance.timeOrigin + performance.now();
const c0 = process.cpuUsage();
sampler.start(tree.pid);
await Bun.sleep(seconds * 1000);
const c = process.cpuUsage(c0);
const t1 = performance.timeOrigin + performance.now();
const attrs = sampler.summarize(t0, t1);
const root = sampler.rootAttributes(t0, t1);
await sampler.stop();
try {
  process.kill(-tree.pid);
} catch {
  /* not a group leader */
}
for (const line of (await Bun.file(`/proc/${tree.pid}/task/${tree.pid}/children`).text().catch(() => "")).split(" ")) {
  const pid = Number(line);
  if (pid > 0) {
    try {
      process.kill(pid);
    } catch {
      /* gone */
    }
  }
}
tree.kill();

const cpuS = (c.user + c.system) / 1e6;
const wallS = (t1 - t0) / 1000;
const perMinute = (cpuS / wallS) * 60;
const pct = (cpuS / wallS) * 100;
console.log(`sampled ${wallS.toFixed(1)} s at ${intervalMs} ms, tree of ${attrs[A.procCountMax]} processes / ${attrs[A.procThreadsMax]} threads, ${root[A.logicalCount]} cores${gpuStandin ? ", GPU via nvidia-smi stand-in" : ""}`);
console.log(`tick: mean ${root[A.tickMeanMs]} ms, max ${root[A.tickMaxMs]} ms; sampling errors: ${root[A.errors]}`);
console.log(`tracer CPU: ${cpuS.toFixed(3)} s in ${wallS.toFixed(1)} s = ${perMinute.toFixed(3)} CPU-s per minute of sampling = ${pct.toFixed(2)} % of one core (target < 1 %) ${pct < 1 ? "OK" : "OVER"}`);
