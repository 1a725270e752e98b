// Per-core and whole-machine CPU utilisation from /proc/stat.
//
// Each "cpuN" line holds cumulative jiffies per mode: user nice system idle
// iowait irq softirq steal guest guest_nice. Busy = user + nice + system + irq
// + softirq + steal (guest time is already included in user); total = busy +
// idle + iowait. Utilisation over an interval is d(busy) / d(total), per core.

import { ProcFile, Scan, sharedBuffer, textBuffer } from "./read-proc.ts";

export interface CpuTimes {
  /** Busy jiffies per logical CPU, indexed by CPU number. */
  busy: Float64Array;
  /** Total jiffies per logical CPU. */
  total: Float64Array;
  allBusy: number;
  allTotal: number;
}

const scan = new Scan(new Uint8Array(0), 0);

/** Number of logical CPUs listed (highest cpuN + 1). */
export function countCpus(buf: Uint8Array, len: number): number {
  const s = scan.reset(buf, len);
  let n = 0;
  do {
    if (!s.at("cpu")) break;
    s.pos += 3;
    if (buf[s.pos] !== 32) n = Math.max(n, s.int() + 1);
  } while (s.nextLine());
  return n;
}

/** Parses /proc/stat bytes into `out` (arrays sized to the number of cores). */
export function parseProcStatInto(buf: Uint8Array, len: number, out: CpuTimes): boolean {
  const s = scan.reset(buf, len);
  const n = out.busy.length;
  let ok = false;
  do {
    if (!s.at("cpu")) break;
    s.pos += 3;
    const all = buf[s.pos] === 32;
    const idx = all ? -1 : s.int();
    const user = s.int() || 0, nice = s.int() || 0, system = s.int() || 0, idle = s.int() || 0;
    const iowait = s.int() || 0, irq = s.int() || 0, softirq = s.int() || 0, steal = s.int() || 0;
    const b = user + nice + system + irq + softirq + steal;
    const t = b + idle + iowait;
    if (all) {
      out.allBusy = b;
      out.allTotal = t;
      ok = true;
    } else if (idx >= 0 && idx < n) {
      out.busy[idx] = b;
      out.total[idx] = t;
    }
  } while (s.nextLine());
  return ok;
}

function empty(n: number): CpuTimes {
  return { busy: new Float64Array(n), total: new Float64Array(n), allBusy: NaN, allTotal: NaN };
}

/** Text parser (tests, one-off use). */
export function parseProcStat(text: string, cores?: number): CpuTimes | null {
  const buf = textBuffer(text);
  const out = empty(cores ?? countCpus(buf, buf.length));
  return parseProcStatInto(buf, buf.length, out) ? out : null;
}

/** Reads /proc/stat through a kept-open fd into two alternating, preallocated results. */
export class ProcStatReader {
  private readonly file: ProcFile;
  private readonly bufs: [CpuTimes, CpuTimes];
  private flip = 0;
  readonly cores: number;

  constructor(path = "/proc/stat") {
    this.file = new ProcFile(path);
    const n = this.file.read();
    this.cores = n > 0 ? Math.max(1, countCpus(sharedBuffer(), n)) : Math.max(1, navigator.hardwareConcurrency || 1);
    this.bufs = [empty(this.cores), empty(this.cores)];
  }

  /** The returned object is reused two reads later. */
  read(): CpuTimes | null {
    const n = this.file.read();
    if (n <= 0) return null;
    const out = this.bufs[this.flip];
    if (!parseProcStatInto(sharedBuffer(), n, out)) return null;
    this.flip ^= 1;
    return out;
  }
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
