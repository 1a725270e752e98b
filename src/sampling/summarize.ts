// Summaries of the samples inside one interval [startMs, endMs], as span attributes.
//
// Host samples cover (t - dt, t]. Gauges (per-core utilisation and what derives
// from it) are averaged weighted by each sample's overlap with the interval.
// Cumulative counters (CPU seconds, bytes, stall microseconds) are linearly
// interpolated at both ends and differenced, so phases shorter than one
// sampling interval still get sensible numbers. GPU readings are point samples
// at arrival time.

import type { Attributes } from "../state/types.ts";
import { A } from "./attributes.ts";
import type { FieldRing } from "./ring.ts";
import { keepBelowFTL } from "../process/jit-budget.ts";

export const HOST_FIELDS = [
  "t", "dt", "cpuAll", "busiest", "saturated",
  "tree", "userS", "sysS", "procs", "threads", "rss",
  "rchar", "wchar", "rb", "wb", "ioDen",
  "diskR", "diskW", "cache",
  "psiCpu", "psiIo", "psiIoFull", "psiMem", "psiMemFull",
] as const;
export type HostField = (typeof HOST_FIELDS)[number];

export const GPU_FIELDS = ["t", "util", "mem", "memTotal", "power", "sm"] as const;
export type GpuField = (typeof GPU_FIELDS)[number];

/** Core utilisation is stored in one byte per core: value = byte / CORE_SCALE. */
export const CORE_SCALE = 250;
export const SATURATED = 0.9;

const MiB = 1024 * 1024;

/** Slow sources are read at least every this many ticks (sampler.ts), so interpolation looks this far for a reading. */
export const MAX_SLOW_GAP = 100;

/** Counter value at time x by linear interpolation between the surrounding samples. */
export function interp(ring: FieldRing<HostField>, field: HostField, x: number): number {
  const n = ring.size;
  if (n === 0) return NaN;
  const j = ring.lowerBound("t", x);
  // Nearest valid readings on each side (slow sources are read every few ticks: NaN between).
  let a = j - 1;
  while (a >= 0 && a > j - MAX_SLOW_GAP - 2 && Number.isNaN(ring.get(field, a))) a--;
  let b = j;
  while (b < n && b < j + MAX_SLOW_GAP + 1 && Number.isNaN(ring.get(field, b))) b++;
  const okA = a >= 0 && !Number.isNaN(ring.get(field, a));
  const okB = b < n && !Number.isNaN(ring.get(field, b));
  if (!okA && !okB) return firstValid(ring, field, j, n);
  if (!okB) return ring.get(field, a);
  if (!okA) return ring.get(field, b);
  const t0 = ring.get("t", a), t1 = ring.get("t", b);
  const v0 = ring.get(field, a), v1 = ring.get(field, b);
  if (Number.isNaN(v0)) return v1;
  if (Number.isNaN(v1) || t1 <= t0) return v0;
  return v0 + ((v1 - v0) * (x - t0)) / (t1 - t0);
}

/** Before a counter's first reading (e.g. the tree attached later) its value is its first reading. */
function firstValid(ring: FieldRing<HostField>, field: HostField, from: number, n: number): number {
  for (let i = Math.max(0, from); i < n; i++) {
    const v = ring.get(field, i);
    if (!Number.isNaN(v)) return v;
  }
  return NaN;
}

const round = (x: number, d = 4) => {
  const p = 10 ** d;
  return Math.round(x * p) / p;
};

/**
 * The time of the last sample at or before x that has `field`. A boundary that
 * was placed back after the fact (a step whose start vLLM reveals only with its
 * printed duration) has no boundary sample of its own; interpolating a counter
 * there splits the activity of the straddling interval by time, though it
 * belongs to the step that starts (vLLM's timer starts as the work does).
 */
export function sampleAtOrBefore(ring: FieldRing<HostField>, field: HostField, x: number): number {
  let i = ring.lowerBound("t", x + 0.5) - 1;
  for (let k = 0; i >= 0 && k <= MAX_SLOW_GAP + 1; i--, k++) if (!Number.isNaN(ring.get(field, i))) return ring.get("t", i);
  return x;
}

/** The time of the first sample at or after x that has `field` (a line's boundary sample comes up to a beat after it). */
export function sampleAtOrAfter(ring: FieldRing<HostField>, field: HostField, x: number): number {
  const n = ring.size;
  let i = ring.lowerBound("t", x - 0.5);
  for (let k = 0; i < n && k <= MAX_SLOW_GAP + 1; i++, k++) if (!Number.isNaN(ring.get(field, i))) return ring.get("t", i);
  return x;
}

/** Counter instants: where each end of the interval is read for counters (see sampleAtOrBefore). */
export interface CounterAt {
  startMs?: number;
  endMs?: number;
}

export function summarizeHost(ring: FieldRing<HostField>, cores: number, startMs: number, endMs: number, counterAt: CounterAt = {}): Attributes {
  const out: Attributes = {};
  const cStart = counterAt.startMs ?? startMs;
  const cEnd = Math.max(cStart, counterAt.endMs ?? endMs);
  const n = ring.size;
  if (n === 0 || !(endMs > startMs)) return out;
  const durS = (endMs - startMs) / 1000;
  let w = 0, sAll = 0, sBusy = 0, sSat = 0, maxBusy = -1, count = 0;
  let maxProcs = NaN, maxThreads = NaN, maxRss = NaN, ioKnown = false;
  const minOverlap = Math.min(endMs - startMs, 1e12) / 2;
  let covered = 0;
  for (let i = ring.lowerBound("t", startMs); i < n; i++) {
    const t = ring.get("t", i);
    const dt = ring.get("dt", i);
    if (t - dt >= endMs) break;
    if (!(dt > 0)) continue;
    const ov = Math.min(t, endMs) - Math.max(t - dt, startMs);
    if (ov <= 0) continue;
    count++;
    covered += ov;
    w += ov;
    sAll += ring.get("cpuAll", i) * ov;
    const b = ring.get("busiest", i);
    sBusy += b * ov;
    sSat += ring.get("saturated", i) * ov;
    if (ov >= Math.min(dt / 2, minOverlap) && b > maxBusy) maxBusy = b;
    if (ring.get("tree", i) === 1) {
      const p = ring.get("procs", i), th = ring.get("threads", i), r = ring.get("rss", i);
      if (!(p <= maxProcs)) maxProcs = p;
      if (!(th <= maxThreads)) maxThreads = th;
      if (!(r <= maxRss)) maxRss = r;
      if (ring.get("ioDen", i) < p) ioKnown = true;
    }
  }
  out[A.samples] = count;
  out[A.coverage] = round(Math.min(1, covered / (endMs - startMs)), 3);
  if (w > 0) {
    out[A.busiestCoreMean] = round(sBusy / w);
    out[A.busiestCoreMax] = round(maxBusy >= 0 ? maxBusy : sBusy / w);
    out[A.saturatedCoresMean] = round(sSat / w, 3);
    out[A.systemCpuMean] = round(sAll / w);
  }
  out[A.logicalCount] = cores;

  // A short interval inside one slow-source period holds no I/O reading of its own; the
  // readings its counters come from (at cStart/cEnd) say whether the tree's I/O was readable.
  if (!ioKnown && Number.isFinite(maxProcs)) {
    for (const x of [cStart, cEnd]) {
      const i = ring.lowerBound("t", x - 0.5);
      for (const k of [i - 1, i]) {
        if (k >= 0 && k < n && !Number.isNaN(ring.get("rchar", k)) && ring.get("ioDen", k) < ring.get("procs", k)) ioKnown = true;
      }
    }
  }
  // Process tree: only where the tree was being sampled across the interval.
  const treeAt = (x: number) => interp(ring, "tree", x);
  if (treeAt(endMs) > 0 && Number.isFinite(maxProcs)) {
    const d = (f: HostField) => Math.max(0, interp(ring, f, cEnd) - interp(ring, f, cStart));
    const user = d("userS"), sys = d("sysS");
    const cpu = user + sys;
    const share = cpu / durS;
    out[A.procCpuTime] = round(cpu, 3);
    out[A.procCpuUser] = round(user, 3);
    out[A.procCpuSystem] = round(sys, 3);
    out[A.procCoreShare] = round(share);
    out[A.procCpuUtil] = round(cores > 0 ? share / cores : 0);
    out[A.procCountMax] = maxProcs;
    out[A.procThreadsMax] = maxThreads;
    out[A.procMemMax] = maxRss;
    const rchar = d("rchar"), rb = d("rb");
    if (ioKnown) {
      out[A.procDiskRead] = Math.round(rb);
      out[A.procDiskWrite] = Math.round(d("wb"));
      out[A.procReadChars] = Math.round(rchar);
      out[A.procWriteChars] = Math.round(d("wchar"));
      out[A.procReadThroughput] = Math.round(rchar / durS);
      out[A.procDiskReadThroughput] = Math.round(rb / durS);
    }
  }

  const diskR0 = interp(ring, "diskR", cStart), diskR1 = interp(ring, "diskR", cEnd);
  let sysRead = NaN;
  if (Number.isFinite(diskR0) && Number.isFinite(diskR1)) {
    sysRead = Math.max(0, diskR1 - diskR0);
    out[A.sysDiskRead] = Math.round(sysRead);
    out[A.sysDiskWrite] = Math.round(Math.max(0, interp(ring, "diskW", cEnd) - interp(ring, "diskW", cStart)));
    out[A.sysDiskReadThroughput] = Math.round(sysRead / durS);
  }
  const c0 = interp(ring, "cache", startMs), c1 = interp(ring, "cache", endMs);
  if (Number.isFinite(c0) && Number.isFinite(c1)) {
    out[A.pageCacheStart] = Math.round(c0);
    out[A.pageCacheEnd] = Math.round(c1);
    out[A.pageCacheGrowth] = Math.round(c1 - c0);
  }
  // Where did the bytes the tree read come from? Heuristic, only for >= 16 MiB read.
  const logical = typeof out[A.procReadChars] === "number" ? (out[A.procReadChars] as number) : NaN;
  if (logical >= 16 * MiB) {
    const fromStorage = Math.max(
      typeof out[A.procDiskRead] === "number" ? (out[A.procDiskRead] as number) : 0,
      Number.isFinite(sysRead) ? Math.min(sysRead, logical) : 0,
    );
    const r = fromStorage / logical;
    out[A.readSource] = r >= 0.5 ? "storage" : r <= 0.1 ? "page_cache" : "mixed";
  }
  const psi = (f: HostField, key: string) => {
    const a = interp(ring, f, startMs), b = interp(ring, f, endMs);
    if (Number.isFinite(a) && Number.isFinite(b)) out[key] = round(Math.min(1, Math.max(0, (b - a) / (durS * 1e6))));
  };
  psi("psiCpu", A.psiCpuSome);
  psi("psiIo", A.psiIoSome);
  psi("psiIoFull", A.psiIoFull);
  psi("psiMem", A.psiMemSome);
  psi("psiMemFull", A.psiMemFull);
  return out;
}

export function summarizeGpus(rings: Map<number, FieldRing<GpuField>>, startMs: number, endMs: number): Attributes {
  const out: Attributes = {};
  const idx = [...rings.keys()].sort((a, b) => a - b);
  const index: number[] = [], uMean: number[] = [], uMax: number[] = [];
  const mStart: number[] = [], mEnd: number[] = [], mPeak: number[] = [], mLimit: number[] = [];
  const pMean: number[] = [], smMean: number[] = [];
  let powerOk = true, smOk = true;
  for (const g of idx) {
    const r = rings.get(g)!;
    const n = r.size;
    if (n === 0) continue;
    let i0 = r.lowerBound("t", startMs);
    let i1 = r.lowerBound("t", endMs + 1e-6); // exclusive
    if (i1 <= i0) {
      // No reading inside the interval: use the nearest one.
      if (i0 >= n) i0 = n - 1;
      i1 = i0 + 1;
    }
    let su = 0, nu = 0, mu = -1, sp = 0, np = 0, ss = 0, ns = 0, peak = -1;
    for (let i = i0; i < i1; i++) {
      const u = r.get("util", i);
      if (Number.isFinite(u)) {
        su += u;
        nu++;
        if (u > mu) mu = u;
      }
      const p = r.get("power", i);
      if (Number.isFinite(p)) {
        sp += p;
        np++;
      }
      const s = r.get("sm", i);
      if (Number.isFinite(s)) {
        ss += s;
        ns++;
      }
      const m = r.get("mem", i);
      if (Number.isFinite(m) && m > peak) peak = m;
    }
    const before = r.lowerBound("t", startMs) - 1; // last reading at or before start
    const atStart = before >= 0 ? r.get("mem", before) : r.get("mem", i0);
    const atEnd = r.get("mem", i1 - 1);
    for (const m of [atStart, atEnd]) if (Number.isFinite(m) && m > peak) peak = m;
    index.push(g);
    uMean.push(nu > 0 ? round(su / nu) : -1);
    uMax.push(nu > 0 ? round(mu) : -1);
    mStart.push(Number.isFinite(atStart) ? atStart : -1);
    mEnd.push(Number.isFinite(atEnd) ? atEnd : -1);
    mPeak.push(peak);
    const lim = r.get("memTotal", i1 - 1);
    mLimit.push(Number.isFinite(lim) ? lim : -1);
    if (np > 0) pMean.push(round(sp / np, 2));
    else powerOk = false;
    if (ns > 0) smMean.push(Math.round(ss / ns));
    else smOk = false;
  }
  if (index.length === 0) return out;
  out[A.gpuIndex] = index;
  out[A.gpuUtilMean] = uMean;
  out[A.gpuUtilMax] = uMax;
  out[A.gpuMemStart] = mStart;
  out[A.gpuMemEnd] = mEnd;
  out[A.gpuMemPeak] = mPeak;
  out[A.gpuMemLimit] = mLimit;
  if (powerOk) out[A.gpuPowerMean] = pMean;
  if (smOk) out[A.gpuSmClockMean] = smMean;
  const valid = uMean.filter((u) => u >= 0);
  if (valid.length > 0) {
    out[A.gpuUtilMeanAll] = round(valid.reduce((a, b) => a + b, 0) / valid.length);
    out[A.gpuUtilMaxAll] = Math.max(...uMax);
  }
  return out;
}

keepBelowFTL(interp);
