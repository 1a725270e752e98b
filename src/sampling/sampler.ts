// Host and process-tree sampler (no eBPF): /proc reads on an unref'd timer,
// GPU metrics from one long-lived nvidia-smi (or rocm-smi/amd-smi polling).
// See docs/attributes-sampling.md for what ends up on the spans.

import type { Attributes } from "../state/types.ts";
import { AmdSmiMonitor } from "./amd-smi.ts";
import { A } from "./attributes.ts";
import { boundBy as classify, type BoundBy } from "./bound-by.ts";
import { physicalDisks, readDiskstats } from "./diskstats.ts";
import type { GpuMonitor, GpuReading } from "./gpu-types.ts";
import { readMeminfo } from "./meminfo.ts";
import { readPressure } from "./pressure.ts";
import { coreUtilisation, ProcStatReader, type CpuTimes } from "./proc-stat.ts";
import { ProcessTree } from "./process-tree.ts";
import { nowMs } from "./read-proc.ts";
import { FieldRing } from "./ring.ts";
import { MAX_SLOW_GAP } from "./summarize.ts";
import { CoreSeries } from "./series.ts";
import {
  CORE_SCALE,
  GPU_FIELDS,
  HOST_FIELDS,
  SATURATED,
  sampleAtOrAfter,
  sampleAtOrBefore,
  summarizeGpus,
  summarizeHost,
  type GpuField,
  type HostField,
} from "./summarize.ts";
import { NvidiaSmiMonitor } from "./nvidia-smi.ts";
import type { Heartbeat } from "../process/heartbeat.ts";

export { hostInventory } from "./inventory.ts";
export type { BoundBy } from "./bound-by.ts";

export interface SamplerOptions {
  intervalMs?: number /* default 100 */;
  nvidiaSmiPath?: string /* default "nvidia-smi" from PATH */;
  gpu?: boolean /* default true */;
  maxSeriesPoints?: number;
  /** Tick on this shared timer instead of an own one (one wake-up for all of the main thread's periodic work). */
  heartbeat?: Heartbeat;
}

export interface Sampler {
  start(rootPid: number): void;
  setRootPid(pid: number): void;
  stop(): Promise<void>;
  /**
   * `snap`: where counters are read at each end instead of interpolating: at the
   * sample before the instant or the first one after it (see CounterSnap).
   */
  summarize(startMs: number, endMs: number, snap?: CounterSnap): Attributes;
  rootAttributes(startMs: number, endMs: number): Attributes;
  boundBy(attrs: Attributes): "CPU-single-core" | "CPU-parallel" | "IO" | "GPU" | "waiting";
  latestCores(): number[];
  /** Takes a full sample now: called when a phase ends, so its counters are exact at the boundary. */
  markBoundary(): void;
}

/** Ring capacity: one hour of samples, between 600 and 72 000, and at most 16 MB of per-core bytes. */
export function ringCapacity(intervalMs: number, cores: number): number {
  const byTime = Math.min(72_000, Math.max(600, Math.ceil(3_600_000 / intervalMs)));
  return Math.max(600, Math.min(byTime, Math.floor(16_000_000 / Math.max(1, cores))));
}

const MAX_GPUS = 64;
// 200 ms, not more: a boundary sample is taken when the marker line is parsed (up to one beat late), and
// interpolating I/O counters across a longer gap misplaced ~20 % of a fast read (test/cli/sampling-wrap.test.ts).
const TREE_EVERY_MS = 200;
const SYSTEM_EVERY_MS = 1000;

class ProcSampler implements Sampler {
  private readonly intervalMs: number;
  private readonly cores: number;
  private readonly ring: FieldRing<HostField>;
  private readonly gpuRings = new Map<number, FieldRing<GpuField>>();
  private readonly series: CoreSeries;
  private readonly tree: ProcessTree;
  private readonly disks = physicalDisks();
  private readonly util: Float64Array;
  private readonly row: Uint8Array;
  private readonly values = {} as Record<HostField, number>;
  private prevStat: CpuTimes | null = null;
  private readonly procStat = new ProcStatReader();
  private prevT = NaN;
  private timer: ReturnType<typeof setInterval> | null = null;
  private unsubscribe: (() => void) | null = null;
  private started = false;
  private stopped = false;
  private gpu: GpuMonitor | null = null;
  private gpuWhy: string | null = null;
  private errors = 0;
  private lastError = "";
  private ticks = 0;
  private tickMsSum = 0;
  private tickMsMax = 0;
  private pressureAbsent = false;
  // Each /proc file read right after a wake-up costs 15-35 us here (its kernel
  // code is cold; 1-5 us when read back to back), so what is cumulative or
  // slow-moving is read less often than every tick. Every phase boundary takes
  // a full sample, so per-phase counters stay exact; only gauges between
  // boundaries are coarser.
  /** Tree discovery and /proc/<pid>/io every this many ticks (about 200 ms). */
  private readonly treeEvery: number;
  /** System-wide files (diskstats, meminfo, pressure) every this many ticks (about 1 s). */
  private readonly sysEvery: number;
  private tickNo = 0;

  constructor(private readonly opts: SamplerOptions) {
    this.intervalMs = Math.max(10, opts.intervalMs ?? 100);
    this.treeEvery = Math.max(1, Math.round(TREE_EVERY_MS / this.intervalMs));
    this.sysEvery = Math.min(MAX_SLOW_GAP, Math.max(1, Math.round(SYSTEM_EVERY_MS / this.intervalMs)));
    this.cores = this.procStat.cores;
    // Full discovery (every thread's children file) about every 2 s.
    this.tree = new ProcessTree({ fullEvery: Math.max(1, Math.round(2000 / (this.intervalMs * this.treeEvery))) });
    this.util = new Float64Array(this.cores);
    this.row = new Uint8Array(this.cores);
    this.ring = new FieldRing(HOST_FIELDS, ringCapacity(this.intervalMs, this.cores), this.cores);
    this.series = new CoreSeries(this.cores, Math.max(1, Math.floor(opts.maxSeriesPoints ?? 240)), this.intervalMs);
  }

  start(rootPid: number): void {
    if (this.started) {
      if (rootPid > 0 && rootPid !== this.tree.rootPid) this.setRootPid(rootPid);
      return;
    }
    this.started = true;
    if (rootPid > 0) this.tree.setRoot(rootPid);
    this.startGpu();
    this.safeSample(true);
    if (this.opts.heartbeat) this.unsubscribe = this.opts.heartbeat.add(() => this.tick(), this.intervalMs);
    else {
      this.timer = setInterval(() => this.tick(), this.intervalMs);
      (this.timer as { unref?: () => void }).unref?.();
    }
  }

  setRootPid(pid: number): void {
    try {
      this.tree.setRoot(pid);
    } catch (e) {
      this.record(e);
    }
  }

  private startGpu(): void {
    if (this.opts.gpu === false) {
      this.gpuWhy = "GPU sampling disabled by configuration";
      return;
    }
    try {
      const onReading = (t: number, r: GpuReading) => this.onGpu(t, r);
      const nv = new NvidiaSmiMonitor({ path: this.opts.nvidiaSmiPath, intervalMs: this.intervalMs, onReading, now: nowMs });
      if (nv.start()) {
        this.gpu = nv;
        return;
      }
      const nvWhy = nv.reason();
      const amd = this.opts.nvidiaSmiPath ? null : AmdSmiMonitor.detect(this.intervalMs, onReading, nowMs);
      if (amd) {
        amd.start();
        this.gpu = amd;
        return;
      }
      this.gpuWhy = this.opts.nvidiaSmiPath ? nvWhy : `no GPU tool: ${nvWhy}; no rocm-smi or amd-smi on PATH`;
    } catch (e) {
      this.gpuWhy = `GPU sampling failed to start: ${(e as Error)?.message ?? e}`;
    }
  }

  private onGpu(t: number, r: GpuReading): void {
    let ring = this.gpuRings.get(r.index);
    if (!ring) {
      if (this.gpuRings.size >= MAX_GPUS) return;
      ring = new FieldRing(GPU_FIELDS, this.ring.capacity);
      this.gpuRings.set(r.index, ring);
    }
    ring.push({ t, util: r.util, mem: r.memUsedBytes, memTotal: r.memTotalBytes, power: r.powerW, sm: r.smClockMhz });
  }

  private tick(): void {
    if (this.stopped) return;
    this.safeSample();
  }

  private record(e: unknown): void {
    this.errors++;
    this.lastError = String((e as Error)?.message ?? e).slice(0, 300);
  }

  /** Never throws. */
  private safeSample(full = false): void {
    const c0 = performance.now();
    try {
      this.sampleNow(full);
    } catch (e) {
      this.record(e);
    }
    const ms = performance.now() - c0;
    this.ticks++;
    this.tickMsSum += ms;
    if (ms > this.tickMsMax) this.tickMsMax = ms;
  }

  private sampleNow(full: boolean): void {
    const k = this.tickNo++;
    const slow = full || k % this.treeEvery === 0;
    const sys = full || k % this.sysEvery === 0;
    try {
      this.gpu?.poll?.();
    } catch (e) {
      this.record(e);
    }
    const t = nowMs();
    const v = this.values;
    v.t = t;
    v.dt = Number.isNaN(this.prevT) ? 0 : t - this.prevT;
    const stat = this.procStat.read(); // reused two reads later: prevStat stays valid for one tick
    if (stat && this.prevStat) {
      const { all } = coreUtilisation(this.prevStat, stat, this.util);
      let busiest = 0, sat = 0;
      for (let i = 0; i < this.cores; i++) {
        const u = this.util[i];
        if (u > busiest) busiest = u;
        if (u >= SATURATED) sat++;
        this.row[i] = Math.round(u * CORE_SCALE);
      }
      v.cpuAll = all;
      v.busiest = busiest;
      v.saturated = sat;
    } else {
      v.dt = 0; // no utilisation for the first reading
      v.cpuAll = v.busiest = v.saturated = NaN;
      this.row.fill(0);
    }
    if (stat) this.prevStat = stat;
    this.prevT = t;

    v.tree = 0;
    v.userS = v.sysS = v.procs = v.threads = v.rss = v.rchar = v.wchar = v.rb = v.wb = v.ioDen = NaN;
    if (this.tree.rootPid > 0) {
      try {
        const tt = this.tree.sample(slow);
        v.tree = 1;
        v.userS = tt.userS;
        v.sysS = tt.systemS;
        v.procs = tt.processes;
        v.threads = tt.threads;
        v.rss = tt.rssBytes;
        v.rchar = tt.rchar;
        v.wchar = tt.wchar;
        v.rb = tt.readBytes;
        v.wb = tt.writeBytes;
        v.ioDen = tt.ioDenied;
      } catch (e) {
        this.record(e);
      }
    }
    const disk = sys ? readDiskstats(this.disks) : null;
    v.diskR = disk ? disk.readBytes : NaN;
    v.diskW = disk ? disk.writeBytes : NaN;
    const mem = sys ? readMeminfo() : null;
    v.cache = mem ? mem.pageCacheBytes : NaN;
    const psi = this.pressureAbsent || !sys ? null : readPressure();
    if (sys && !psi) this.pressureAbsent = true;
    v.psiCpu = psi ? psi.cpuSome : NaN;
    v.psiIo = psi ? psi.ioSome : NaN;
    v.psiIoFull = psi ? psi.ioFull : NaN;
    v.psiMem = psi ? psi.memSome : NaN;
    v.psiMemFull = psi ? psi.memFull : NaN;
    this.ring.push(v, this.row);
    if (v.dt > 0) this.series.add(t, v.dt, this.util);
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.unsubscribe?.();
    this.unsubscribe = null;
    try {
      await this.gpu?.stop();
    } catch (e) {
      this.record(e);
    }
  }

  markBoundary(): void {
    if (this.started && !this.stopped) this.safeSample(true);
  }

  summarize(startMs: number, endMs: number, snap: CounterSnap = {}): Attributes {
    try {
      // A phase that ends after the last sample (the usual case: summarize() is called as a phase
      // ends): take one more sample now, so that counters are exact at the boundary instead of
      // being interpolated across up to one interval. Its per-core utilisation covers only a few
      // milliseconds and is weighted accordingly.
      const lastT = this.ring.size > 0 ? this.ring.get("t", this.ring.size - 1) : NaN;
      if (this.started && !this.stopped && !(lastT >= endMs) && nowMs() - lastT >= 2) this.safeSample(true);
      const at = (x: number, d: "before" | "after" | undefined) =>
        d === "before" ? sampleAtOrBefore(this.ring, "rchar", x) : d === "after" ? sampleAtOrAfter(this.ring, "rchar", x) : undefined;
      const cs = at(startMs, snap.start), ce = at(endMs, snap.end);
      const counterAt = { ...(cs !== undefined ? { startMs: cs } : {}), ...(ce !== undefined ? { endMs: ce } : {}) };
      return { ...summarizeHost(this.ring, this.cores, startMs, endMs, counterAt), ...summarizeGpus(this.gpuRings, startMs, endMs) };
    } catch (e) {
      this.record(e);
      return {};
    }
  }

  rootAttributes(startMs: number, endMs: number): Attributes {
    const out: Attributes = {};
    try {
      out[A.intervalMs] = this.intervalMs;
      out[A.logicalCount] = this.cores;
      const s = this.series.render(startMs, endMs);
      if (s) {
        out[A.series] = s.series;
        out[A.seriesEncoding] = "b64u6";
        out[A.seriesStartMs] = Math.round(s.startMs);
        out[A.seriesStepMs] = s.stepMs;
        out[A.seriesPoints] = s.points;
      }
      const gpuWhy = this.gpu ? this.gpu.reason() : this.gpuWhy;
      out[A.gpuSource] = this.gpu && this.gpu.readings() > 0 ? this.gpu.source : "none";
      if (gpuWhy && !(this.gpu && this.gpu.readings() > 0 && /yet$/.test(gpuWhy))) out[A.gpuUnavailable] = gpuWhy;
      const denied = this.tree.ioDeniedPids.size;
      if (denied > 0) {
        out[A.procIoUnavailable] =
          `/proc/<pid>/io not readable for ${denied} of ${this.tree.seenPids.size} processes (needs the same UID or CAP_SYS_PTRACE); ` +
          "their I/O is missing from process.disk.io.* and vllm.startup.process.io.*";
      }
      if (this.pressureAbsent) out[A.psiUnavailable] = "/proc/pressure not available (kernel without PSI or psi=0)";
      out[A.errors] = this.errors;
      if (this.lastError) out[A.lastError] = this.lastError;
      if (this.ticks > 0) {
        out[A.tickMeanMs] = Math.round((this.tickMsSum / this.ticks) * 1000) / 1000;
        out[A.tickMaxMs] = Math.round(this.tickMsMax * 1000) / 1000;
      }
    } catch (e) {
      this.record(e);
    }
    return out;
  }

  boundBy(attrs: Attributes): BoundBy {
    try {
      return classify(attrs);
    } catch {
      return "waiting";
    }
  }

  latestCores(): number[] {
    const n = this.ring.size;
    if (n === 0 || !(this.ring.get("dt", n - 1) > 0)) return new Array(this.cores).fill(0);
    return Array.from(this.ring.row(n - 1), (b) => b / CORE_SCALE);
  }

  /** For tests and diagnostics. */
  debug() {
    return { tree: this.tree, gpu: this.gpu, samples: this.ring.size, errors: this.errors, lastError: this.lastError };
  }
}

/**
 * How a phase boundary's counters are read. vLLM prints a line *between* two
 * pieces of work, and the tracker's boundary sample comes up to one beat after
 * the line (lines are taken at the beat): at an end line the work before it is
 * done, so counters are read at the first sample after it ("after"); at a begin
 * line, or at a start placed back from a printed duration (no sample was taken
 * there), the work that follows belongs to the phase that starts ("before").
 * Without a direction, counters are interpolated.
 */
export interface CounterSnap {
  start?: "before" | "after";
  end?: "before" | "after";
}

export function createSampler(opts: SamplerOptions = {}): Sampler {
  return new ProcSampler(opts);
}
