// Pure parts: parsers, bound-by rule, series encoding, ring bounds, inventory.
import { expect, test } from "bun:test";
import { join } from "node:path";
import { A } from "../../src/sampling/attributes.ts";
import { boundBy } from "../../src/sampling/bound-by.ts";
import { parseDiskstats } from "../../src/sampling/diskstats.ts";
import { containerIdFrom, hostInventory, k8sFromEnv, parseNvidiaInventory } from "../../src/sampling/inventory.ts";
import { parseMeminfo } from "../../src/sampling/meminfo.ts";
import { parsePressure } from "../../src/sampling/pressure.ts";
import { coreUtilisation, parseProcStat } from "../../src/sampling/proc-stat.ts";
import { parseProcIo } from "../../src/sampling/proc-io.ts";
import { FieldRing } from "../../src/sampling/ring.ts";
import { ringCapacity } from "../../src/sampling/sampler.ts";
import { CoreSeries, decodeSeries, MAX_SERIES_CHARS } from "../../src/sampling/series.ts";
import { parseAmdSmiJson, parseRocmSmiJson } from "../../src/sampling/amd-smi.ts";
import { NVSMI_DIR } from "./helpers.ts";

test("/proc/stat per-core utilisation", () => {
  const a = parseProcStat("cpu  100 0 100 800 0 0 0 0 0 0\ncpu0 50 0 50 400 0 0 0 0 0 0\ncpu1 50 0 50 400 0 0 0 0 0 0\nintr 1\n")!;
  const b = parseProcStat("cpu  200 0 100 900 0 0 0 0 0 0\ncpu0 150 0 50 400 0 0 0 0 0 0\ncpu1 50 0 50 500 0 0 0 0 0 0\nintr 1\n")!;
  const out = new Float64Array(2);
  const { all } = coreUtilisation(a, b, out);
  expect([...out]).toEqual([1, 0]);
  expect(all).toBe(0.5);
});

test("diskstats counts whole disks only; meminfo page cache excludes shmem; pressure totals; io", () => {
  const ds = [
    " 259 0 nvme0n1 10 0 2048 0 5 0 1024 0 0 0 0",
    " 259 1 nvme0n1p1 10 0 2048 0 5 0 1024 0 0 0 0",
    "   7 0 loop0 10 0 9999 0 5 0 9999 0 0 0 0",
    " 253 0 dm-0 10 0 9999 0 5 0 9999 0 0 0 0",
  ].join("\n");
  expect(parseDiskstats(ds, null)).toEqual({ readBytes: 2048 * 512, writeBytes: 1024 * 512 });
  expect(parseDiskstats(ds, new Set(["nvme0n1"]))).toEqual({ readBytes: 2048 * 512, writeBytes: 1024 * 512 });
  const mi = parseMeminfo("MemTotal: 1000 kB\nMemAvailable: 500 kB\nCached: 300 kB\nShmem: 100 kB\n");
  expect(mi).toEqual({ totalBytes: 1024000, availableBytes: 512000, pageCacheBytes: 204800 });
  expect(parsePressure("some avg10=0.00 avg60=0.00 avg300=0.00 total=123\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=45\n")).toEqual({ some: 123, full: 45 });
  expect(parseProcIo("rchar: 10\nwchar: 20\nsyscr: 1\nsyscw: 1\nread_bytes: 4096\nwrite_bytes: 8192\ncancelled_write_bytes: 0\n")).toEqual({
    rchar: 10, wchar: 20, readBytes: 4096, writeBytes: 8192,
  });
});

test("bound-by rule", () => {
  const base = { [A.busiestCoreMean]: 0.1, [A.saturatedCoresMean]: 0, [A.procCoreShare]: 0.05, [A.procReadThroughput]: 0 };
  expect(boundBy(base)).toBe("waiting");
  expect(boundBy({ ...base, [A.busiestCoreMean]: 0.97, [A.procCoreShare]: 1.0 })).toBe("CPU-single-core");
  expect(boundBy({ ...base, [A.busiestCoreMean]: 1, [A.saturatedCoresMean]: 6, [A.procCoreShare]: 6.5 })).toBe("CPU-parallel");
  expect(boundBy({ ...base, [A.procCoreShare]: 0.8, [A.busiestCoreMean]: 0.4 })).toBe("CPU-parallel");
  // Starved on a contended host: wants a core, gets half of one.
  expect(boundBy({ ...base, [A.procCoreShare]: 0.5, [A.busiestCoreMean]: 1, [A.psiCpuSome]: 0.6 })).toBe("CPU-single-core");
  expect(boundBy({ ...base, [A.procReadThroughput]: 400 * 1024 * 1024 })).toBe("IO");
  expect(boundBy({ ...base, [A.psiIoSome]: 0.7, [A.procReadThroughput]: 5 * 1024 * 1024 })).toBe("IO");
  // Another workload's I/O pressure does not make an idle tree IO-bound.
  expect(boundBy({ ...base, [A.psiIoSome]: 0.7, [A.sysDiskReadThroughput]: 900 * 1024 * 1024 })).toBe("waiting");
  expect(boundBy({ ...base, [A.gpuUtilMean]: [0.9, 0.2], [A.gpuUtilMaxAll]: 1, [A.procCoreShare]: 1, [A.busiestCoreMean]: 1 })).toBe("GPU");
  // Host-only (follow mode before attach): system-wide signals.
  expect(boundBy({ [A.busiestCoreMean]: 0.95, [A.saturatedCoresMean]: 1 })).toBe("CPU-single-core");
  expect(boundBy({ [A.busiestCoreMean]: 0.2, [A.sysDiskReadThroughput]: 100 * 1024 * 1024 })).toBe("IO");
  expect(boundBy({})).toBe("waiting");
});

test("per-core series stays bounded over a long start-up and decodes back", () => {
  const s = new CoreSeries(4, 120, 100);
  const t0 = 1_700_000_000_000;
  for (let i = 1; i <= 36_000; i++) s.add(t0 + i * 100, 100, [1, 0, i % 2, 0.5]); // one hour at 100 ms
  const r = s.render(t0, t0 + 3_600_000)!;
  expect(r.points).toBeLessThanOrEqual(120);
  expect(r.stepMs * r.points).toBeGreaterThanOrEqual(3_600_000);
  const rows = decodeSeries(r.series);
  expect(rows.length).toBe(r.points);
  expect(rows[0][0]).toBe(1);
  expect(rows[0][1]).toBe(0);
  expect(Math.abs(rows[0][2] - 0.5)).toBeLessThan(0.02);
  // Many cores: the string is capped.
  const big = new CoreSeries(512, 240, 100);
  for (let i = 1; i <= 6000; i++) big.add(t0 + i * 100, 100, new Array(512).fill(0.3));
  const rb = big.render(t0, t0 + 600_000)!;
  expect(rb.series.length).toBeLessThanOrEqual(MAX_SERIES_CHARS);
});

test("ring buffer is bounded and keeps the newest samples", () => {
  const r = new FieldRing(["t", "v"] as const, 5, 2);
  for (let i = 0; i < 12; i++) r.push({ t: i, v: i * 10 }, [i, i + 1]);
  expect(r.size).toBe(5);
  expect(r.get("t", 0)).toBe(7);
  expect(r.get("v", 4)).toBe(110);
  expect([...r.row(4)]).toEqual([11, 12]);
  expect(r.lowerBound("t", 9)).toBe(2);
  expect(ringCapacity(100, 2)).toBe(36_000);
  expect(ringCapacity(100, 1024)).toBe(15_625);
});

test("container id and Kubernetes identity", () => {
  const id = "a".repeat(8) + "0123456789abcdef".repeat(3) + "b".repeat(8);
  expect(containerIdFrom(`0::/system.slice/docker-${id}.scope\n`, null)).toBe(id);
  expect(containerIdFrom(`0::/kubepods/burstable/pod1/cri-containerd-${id}.scope\n`, null)).toBe(id);
  expect(containerIdFrom("0::/\n", `1 2 0:1 /var/lib/docker/containers/${id}/hostname /etc/hostname rw - ext4 /dev/vda rw\n`)).toBe(id);
  expect(containerIdFrom("0::/\n", null)).toBeNull();
  expect(k8sFromEnv({ POD_NAME: "vllm-0", POD_NAMESPACE: "llm", NODE_NAME: "gpu-node-3", POD_UID: "u-1" })).toEqual({
    "k8s.pod.name": "vllm-0", "k8s.namespace.name": "llm", "k8s.node.name": "gpu-node-3", "k8s.pod.uid": "u-1",
  });
  expect(k8sFromEnv({})).toEqual({});
});

test("nvidia-smi inventory query and AMD JSON parsing", async () => {
  const inv = parseNvidiaInventory(await Bun.file(join(NVSMI_DIR, "h100-inventory.csv")).text());
  expect(inv["vllm.startup.gpu.count"]).toBe(2);
  expect(inv["vllm.startup.gpu.models"]).toEqual(["NVIDIA H100 80GB HBM3", "NVIDIA H100 80GB HBM3"]);
  expect(inv["vllm.startup.gpu.driver_version"]).toBe("550.90.07");
  const rocm = parseRocmSmiJson(JSON.stringify({ card0: { "GPU use (%)": "42", "VRAM Total Memory (B)": "206141652992", "VRAM Total Used Memory (B)": "1073741824", "Current Socket Graphics Package Power (W)": "350.0" } }));
  expect(rocm[0]).toMatchObject({ index: 0, util: 0.42, memTotalBytes: 206141652992, memUsedBytes: 1073741824, powerW: 350 });
  const amd = parseAmdSmiJson(JSON.stringify([{ gpu: 1, usage: { gfx_activity: { value: 7, unit: "%" } }, power: { socket_power: { value: 120, unit: "W" } }, mem_usage: { total_vram: { value: 196592, unit: "MB" }, used_vram: { value: 283, unit: "MB" } } }]));
  expect(amd[0]).toMatchObject({ index: 1, util: 0.07, powerW: 120, memTotalBytes: 196592 * 1024 * 1024 });
});

test("hostInventory: bounded, never throws, resource attributes", async () => {
  const t0 = performance.now();
  const inv = await hostInventory({ timeoutMs: 3000 });
  expect(performance.now() - t0).toBeLessThan(4000);
  expect(typeof inv["host.name"]).toBe("string");
  expect(inv["host.arch"]).toBe(process.arch === "x64" ? "amd64" : inv["host.arch"]);
  expect(inv["os.type"]).toBe("linux");
  expect(typeof inv["host.cpu.model.name"]).toBe("string");
  expect(inv["vllm.startup.host.memory.total"] as number).toBeGreaterThan(0);
  // This machine has no GPU and no nvidia-smi: says so.
  if (!Bun.which("nvidia-smi")) expect(String(inv["vllm.startup.gpu.unavailable"])).toContain("nvidia-smi");
  // With the stand-in on PATH, GPU models and driver come from one nvidia-smi query.
  const old = process.env.PATH;
  process.env.PATH = `${NVSMI_DIR}:${old}`;
  try {
    const g = await hostInventory({ timeoutMs: 3000 });
    expect(g["vllm.startup.gpu.models"]).toEqual(["NVIDIA H100 80GB HBM3", "NVIDIA H100 80GB HBM3"]);
    expect(g["vllm.startup.gpu.driver_version"]).toBe("550.90.07");
  } finally {
    process.env.PATH = old;
  }
});
