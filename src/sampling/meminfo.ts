// Page-cache size from /proc/meminfo.
//
// "Page cache" here is the file-backed cache: Cached - Shmem. Cached also
// counts tmpfs and shared memory (/dev/shm, which vLLM uses for its IPC
// buffers), which would look like cache growth without any file being read.

import { readProcText } from "./read-proc.ts";

export interface MemInfo {
  totalBytes: number;
  availableBytes: number;
  pageCacheBytes: number;
}

export function parseMeminfo(text: string): MemInfo {
  let total = 0, avail = 0, cached = 0, shmem = 0;
  for (const line of text.split("\n")) {
    const c = line.indexOf(":");
    if (c < 0) continue;
    const key = line.slice(0, c);
    if (key !== "MemTotal" && key !== "MemAvailable" && key !== "Cached" && key !== "Shmem") continue;
    const kb = parseFloat(line.slice(c + 1));
    const v = Number.isFinite(kb) ? kb * 1024 : 0;
    if (key === "MemTotal") total = v;
    else if (key === "MemAvailable") avail = v;
    else if (key === "Cached") cached = v;
    else shmem = v;
  }
  return { totalBytes: total, availableBytes: avail, pageCacheBytes: Math.max(0, cached - shmem) };
}

export function readMeminfo(path = "/proc/meminfo"): MemInfo | null {
  const text = readProcText(path);
  return text === null ? null : parseMeminfo(text);
}
