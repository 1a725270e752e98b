import { readProcStat } from "/work/main/src/sampling/proc-stat.ts";
import { readDiskstats, physicalDisks } from "/work/main/src/sampling/diskstats.ts";
import { readMeminfo } from "/work/main/src/sampling/meminfo.ts";
import { readPressure } from "/work/main/src/sampling/pressure.ts";
import { ProcessTree } from "/work/main/src/sampling/process-tree.ts";
const N = 2000;
function bench(name: string, f: () => void) {
  for (let i = 0; i < 100; i++) f();
  const c0 = process.cpuUsage();
  for (let i = 0; i < N; i++) f();
  const c = process.cpuUsage(c0);
  console.log(name.padEnd(12), ((c.user + c.system) / N).toFixed(1), "us cpu");
}
const d = physicalDisks();
const tree = new ProcessTree();
const p = Bun.spawn(["bash", "-c", "sleep 100 & sleep 100 & sleep 100 & sleep 100 & wait"]);
await Bun.sleep(200);
tree.setRoot(p.pid);
bench("procstat", () => readProcStat(2));
bench("diskstats", () => readDiskstats(d));
bench("meminfo", () => readMeminfo());
bench("pressure", () => readPressure());
bench("tree", () => tree.sample());
p.kill();
