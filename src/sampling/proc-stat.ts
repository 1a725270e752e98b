// Per-core and whole-machine CPU utilisation from /proc/stat.
//
// Each "cpuN" line holds cumulative jiffies per mode: user nice system idle
// iowait irq softirq steal guest guest_nice. Busy = user + nice + system + irq
// + softirq + steal (guest time is already included in user); total = busy +
// idle + iowait. Utilisation over an interval is d(busy) / d(total), per core.

import { readProcText } from "./read-proc.ts";

export interface CpuTimes {
  /** Busy jiffies per logical CPU, indexed by CPU number. */
  busy: Float64Array;
  /** Total jiffies per logical CPU. */
  total: Float64Array;
  allBusy: number;
  allTotal: number;
}

/** Parses /proc/stat text. `cores` fixes the array length (CPUs beyond it are ignored). */
export function parseProcStat(text: string, cores?: number): CpuTimes | null {
  const lines = text.split("\n");
  let n = cores ?? 0;
  if (cores === undefined) {
    for (const line of lines) {
      if (line.startsWith("cpu") && line.charCodeAt(3) >= 48 && line.charCodeAt(3) <= 57) {
        const sp = line.indexOf(" ");
        const idx = Number(line.slice(3, sp));
        if (idx + 1 > n) n = idx + 1;
      }
    }
  }
  const busy = new Float64Array(n);
  const total = new Float64Array(n);
  let allBusy = NaN;
  let allTotal = NaN;
  for (const line of lines) {
    if (!line.startsWith("cpu")) {
      if (line.length > 0 && !Number.isNaN(allBusy)) break; // cpu lines come first
      continue;
    }
    const f = line.split(/\s+/);
    const user = +f[1] || 0, nice = +f[2] || 0, system = +f[3] || 0, idle = +f[4] || 0;
    const iowait = +f[5] || 0, irq = +f[6] || 0, softirq = +f[7] || 0, steal = +f[8] || 0;
    const b = user + nice + system + irq + softirq + steal;
    const t = b + idle + iowait;
    if (f[0] === "cpu") {
      allBusy = b;
      allTotal = t;
    } else {
      const idx = Number(f[0].slice(3));
      if (idx >= 0 && idx < n) {
        busy[idx] = b;
        total[idx] = t;
      }
    }
  }
  if (Number.isNaN(allBusy)) return null;
  return { busy, total, allBusy, allTotal };
}

export function readProcStat(cores?: number, path = "/proc/stat"): CpuTimes | null {
  const text = readProcText(path);
  return text === null ? null : parseProcStat(text, cores);
}

/** Utilisation 0..1 per core between two readings (0 for a core with no elapsed jiffies). */
export function coreUtilisation(prev: CpuTimes, cur: CpuTimes, out: Float64Array): { all: number } {
  for (let i = 0; i < out.length; i++) {
    const dt = (cur.total[i] ?? 0) - (prev.total[i] ?? 0);
    const db = (cur.busy[i] ?? 0) - (prev.busy[i] ?? 0);
    out[i] = dt > 0 ? clamp01(db / dt) : 0;
  }
  const dT = cur.allTotal - prev.allTotal;
  const all = dT > 0 ? clamp01((cur.allBusy - prev.allBusy) / dT) : 0;
  return { all };
}

function clamp01(x: number): number {
  return x < 0 ? 0 : x > 1 ? 1 : x;
}
