// "Bound by" classification of one phase from its sampling attributes.
// The rule (first match wins; documented in docs/attributes-sampling.md):
//   1. GPU              busiest GPU's mean utilisation >= 0.5
//   2. IO               io pressure "some" >= 0.5 (tasks stalled on I/O half the time) and the
//                       tree is reading (>= 1 MiB/s) or its I/O is unknown
//   3. CPU-parallel     process tree used >= 1.5 cores on average
//                       (no tree data: saturated_cores.mean >= 1.5)
//   4. CPU-single-core  tree used >= 0.6 cores and the busiest core was >= 75 % busy, or
//                       tree used >= 0.3 cores while CPU pressure "some" >= 0.2 (runnable but
//                       starved by other work on a contended host: still CPU-bound)
//                       (no tree data: busiest core mean >= 0.8)
//   5. IO               tree read throughput (rchar or storage) >= 32 MiB/s; without tree I/O
//                       data: system disk reads >= 32 MiB/s or io pressure "some" >= 0.1
//                       (system-wide signals are only used when the tree's own are missing,
//                       so another workload's I/O does not label an idle phase "IO")
//   6. CPU-parallel     tree used >= 0.6 cores, spread thinly over several cores
//   7. waiting          none of the above: sleeping, waiting on a lock, a socket, another
//                       process, or the GPU driver outside kernels. (A download that moves
//                       >= 32 MiB/s through the tree's sockets counts as IO: rchar includes
//                       socket reads.)

import type { Attributes } from "../state/types.ts";
import { A } from "./attributes.ts";

export type BoundBy = "CPU-single-core" | "CPU-parallel" | "IO" | "GPU" | "waiting";

export const BOUND_BY_THRESHOLDS = {
  gpuUtil: 0.5,
  ioPressureHigh: 0.5,
  parallelCores: 1.5,
  singleCoreShare: 0.6,
  busiestCore: 0.75,
  starvedShare: 0.3,
  cpuPressure: 0.2,
  busiestCoreHostOnly: 0.8,
  saturatedCoresHostOnly: 1.5,
  readThroughput: 32 * 1024 * 1024,
  readingAtAll: 1024 * 1024,
  ioPressureLow: 0.1,
} as const;

function num(attrs: Attributes, key: string): number | null {
  const v = attrs[key];
  return typeof v === "number" && Number.isFinite(v) ? v : null;
}

export function boundBy(attrs: Attributes): BoundBy {
  const T = BOUND_BY_THRESHOLDS;
  const gpu = num(attrs, A.gpuUtilMaxAll) !== null ? maxOf(attrs[A.gpuUtilMean]) : null;
  const ioSome = num(attrs, A.psiIoSome) ?? 0;
  const share = num(attrs, A.procCoreShare);
  const busiest = num(attrs, A.busiestCoreMean) ?? 0;
  const saturated = num(attrs, A.saturatedCoresMean) ?? 0;
  const treeTp = num(attrs, A.procReadThroughput);
  const treeIo = treeTp !== null;
  const readTp = treeIo
    ? Math.max(treeTp, num(attrs, A.procDiskReadThroughput) ?? 0)
    : num(attrs, A.sysDiskReadThroughput) ?? 0;

  if (gpu !== null && gpu >= T.gpuUtil) return "GPU";
  if (ioSome >= T.ioPressureHigh && (!treeIo || readTp >= T.readingAtAll)) return "IO";
  if (share !== null ? share >= T.parallelCores : saturated >= T.saturatedCoresHostOnly) return "CPU-parallel";
  const cpuSome = num(attrs, A.psiCpuSome) ?? 0;
  const single =
    share !== null
      ? (share >= T.singleCoreShare && busiest >= T.busiestCore) ||
        (share >= T.starvedShare && cpuSome >= T.cpuPressure)
      : busiest >= T.busiestCoreHostOnly;
  if (single) {
    return "CPU-single-core";
  }
  if (readTp >= T.readThroughput || (!treeIo && ioSome >= T.ioPressureLow)) return "IO";
  if (share !== null && share >= T.singleCoreShare) return "CPU-parallel";
  return "waiting";
}

function maxOf(v: unknown): number | null {
  if (!Array.isArray(v)) return null;
  let m: number | null = null;
  for (const x of v) if (typeof x === "number" && Number.isFinite(x) && (m === null || x > m)) m = x;
  return m;
}
