// GPU sampling parsed from nvidia-smi output, against a stand-in that replays a capture.
import { afterAll, expect, test } from "bun:test";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createSampler } from "../../src/sampling/sampler.ts";
import { A } from "../../src/sampling/attributes.ts";
import { NvidiaSmiMonitor, parseNvidiaSmiLine } from "../../src/sampling/nvidia-smi.ts";
import { nowMs } from "../../src/sampling/read-proc.ts";
import { alive, NVSMI_DIR } from "./helpers.ts";

const STANDIN = join(NVSMI_DIR, "nvidia-smi");
const MiB = 1024 * 1024;
const tmp = mkdtempSync(join(tmpdir(), "nvsmi-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function script(name: string, body: string): string {
  const p = join(tmp, name);
  writeFileSync(p, `#!/usr/bin/env bash\n${body}\n`);
  chmodSync(p, 0o755);
  return p;
}

function withEnv<T>(vars: Record<string, string>, f: () => T): T {
  const old: Record<string, string | undefined> = {};
  for (const k of Object.keys(vars)) {
    old[k] = process.env[k];
    process.env[k] = vars[k];
  }
  try {
    return f();
  } finally {
    for (const k of Object.keys(vars)) {
      if (old[k] === undefined) delete process.env[k];
      else process.env[k] = old[k];
    }
  }
}

test("every line of the capture parses; [N/A] / [Not Supported] power reads as unknown", () => {
  for (const f of ["h100-query.csv", "power-na-query.csv"]) {
    for (const line of readFileSync(join(NVSMI_DIR, f), "latin1").trim().split("\n")) {
      const r = parseNvidiaSmiLine(line);
      expect(r).not.toBeNull();
      expect(r!.memTotalBytes).toBeGreaterThan(0);
      expect(r!.util).toBeGreaterThanOrEqual(0);
      expect(r!.util).toBeLessThanOrEqual(1);
    }
  }
  const h = parseNvidiaSmiLine("1, GPU-abc, NVIDIA H100 80GB HBM3, 97, 73412, 81559, 482.65, 1980")!;
  expect(h).toEqual({
    index: 1, uuid: "GPU-abc", name: "NVIDIA H100 80GB HBM3", util: 0.97,
    memUsedBytes: 73412 * MiB, memTotalBytes: 81559 * MiB, powerW: 482.65, smClockMhz: 1980,
  });
  expect(parseNvidiaSmiLine("0, GPU-x, Tesla K80, 0, 0, 11441, [Not Supported], 562")!.powerW).toBeNaN();
  expect(parseNvidiaSmiLine("0, GPU-x, GTX 1050 Ti, 3, 247, 4040, [N/A], 1290")!.powerW).toBeNaN();
  expect(parseNvidiaSmiLine("No devices were found")).toBeNull();
  expect(parseNvidiaSmiLine("")).toBeNull();
});

test("sampler streams GPU metrics from one long-lived nvidia-smi and stops it by PID", async () => {
  const log = join(tmp, "starts.log");
  const sampler = withEnv({ NVIDIA_SMI_STANDIN_LOG: log }, () => {
    const s = createSampler({ intervalMs: 100, nvidiaSmiPath: STANDIN });
    s.start(process.pid);
    return s;
  });
  const t0 = nowMs();
  const gpu = (sampler as unknown as { debug(): { gpu: NvidiaSmiMonitor } }).debug().gpu;
  // Wait for one pass over the capture (30 cycles x 2 GPUs), however slow a loaded host is.
  for (let i = 0; i < 100 && gpu.readings() < 60; i++) await Bun.sleep(100);
  const attrs = sampler.summarize(t0, nowMs());
  const root = sampler.rootAttributes(t0, nowMs());
  const pid = gpu.pid()!;
  expect(alive(pid)).toBe(true);
  await sampler.stop();
  await Bun.sleep(100);
  expect(alive(pid)).toBe(false);
  // One nvidia-smi process for the whole run, with -lms 100.
  const starts = readFileSync(log, "latin1").trim().split("\n");
  expect(starts.length).toBe(1);
  expect(starts[0]).toContain("index,uuid,name,utilization.gpu,memory.used,memory.total,power.draw,clocks.sm 100");

  expect(attrs[A.gpuIndex]).toEqual([0, 1]);
  expect(attrs[A.gpuMemLimit]).toEqual([81559 * MiB, 81559 * MiB]);
  const peak = attrs[A.gpuMemPeak] as number[];
  const start = attrs[A.gpuMemStart] as number[];
  expect(peak[0]).toBeGreaterThan(start[0]);
  expect((attrs[A.gpuUtilMax] as number[])[0]).toBe(1); // the capture reaches 100 %
  expect((attrs[A.gpuPowerMean] as number[]).length).toBe(2);
  expect((attrs[A.gpuSmClockMean] as number[])[0]).toBeGreaterThan(300);
  expect(attrs[A.gpuUtilMaxAll]).toBe(1);
  expect(root[A.gpuSource]).toBe("nvidia-smi");
  expect(root[A.gpuUnavailable]).toBeUndefined();
  // Host sampling is unaffected.
  expect(attrs[A.systemCpuMean]).toBeDefined();
}, 15000);

test("found through PATH; GPUs without power readings keep the other GPU attributes", async () => {
  const sampler = withEnv({ PATH: `${NVSMI_DIR}:${process.env.PATH}`, NVIDIA_SMI_CAPTURE: join(NVSMI_DIR, "power-na-query.csv") }, () => {
    const s = createSampler({ intervalMs: 100 });
    s.start(process.pid);
    return s;
  });
  const t0 = nowMs();
  await Bun.sleep(800);
  const attrs = sampler.summarize(t0, nowMs());
  await sampler.stop();
  expect(attrs[A.gpuIndex]).toEqual([0, 1]);
  expect(attrs[A.gpuPowerMean]).toBeUndefined();
  expect((attrs[A.gpuUtilMax] as number[])[0]).toBeGreaterThan(0);
  expect(attrs[A.gpuMemLimit]).toEqual([4040 * MiB, 11441 * MiB]);
});

const failing: [string, string, RegExp][] = [
  ["missing", "", /not found/],
  ["driver failure", 'echo "NVIDIA-SMI has failed because it couldn\'t communicate with the NVIDIA driver. Make sure that the latest NVIDIA driver is installed and running."; exit 9', /exited \(code 9\).*couldn't communicate/],
  ["garbage", 'while :; do echo "this is not csv"; sleep 0.05; done', /not understood/],
  ["silent", "exec sleep 30", /no readings/],
  ["no devices", 'echo "No devices were found"; exit 6', /code 6.*No devices/],
];

for (const [name, body, why] of failing) {
  test(`${name} nvidia-smi disturbs nothing else and the root span says why`, async () => {
    const path = body ? script(`nvidia-smi-${name.replace(/ /g, "-")}`, body) : join(tmp, "does-not-exist", "nvidia-smi");
    const sampler = createSampler({ intervalMs: 100, nvidiaSmiPath: path });
    sampler.start(process.pid);
    const t0 = nowMs();
    await Bun.sleep(500);
    const attrs = sampler.summarize(t0, nowMs());
    const root = sampler.rootAttributes(t0, nowMs());
    const gpu = (sampler as unknown as { debug(): { gpu: NvidiaSmiMonitor | null } }).debug().gpu;
    const pid = gpu?.pid() ?? null;
    await sampler.stop();
    expect(attrs[A.gpuIndex]).toBeUndefined();
    expect(attrs[A.systemCpuMean]).toBeDefined();
    expect(attrs[A.procCpuTime]).toBeDefined();
    expect(root[A.gpuSource]).toBe("none");
    expect(String(root[A.gpuUnavailable])).toMatch(why);
    expect(root[A.errors]).toBe(0);
    if (pid) {
      await Bun.sleep(100);
      expect(alive(pid)).toBe(false);
    }
  });
}

test("no nvidia-smi on PATH: the root span says why", async () => {
  const sampler = withEnv({ PATH: "/nonexistent" }, () => {
    const s = createSampler({ intervalMs: 100 });
    s.start(0);
    return s;
  });
  const root = sampler.rootAttributes(0, nowMs());
  await sampler.stop();
  expect(String(root[A.gpuUnavailable])).toMatch(/nvidia-smi not found on PATH.*no rocm-smi or amd-smi/);
});
