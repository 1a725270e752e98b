// Page-cache size from /proc/meminfo.
//
// "Page cache" here is the file-backed cache: Cached - Shmem. Cached also
// counts tmpfs and shared memory (/dev/shm, which vLLM uses for its IPC
// buffers), which would look like cache growth without any file being read.

import { ProcFile, Scan, sharedBuffer, textBuffer } from "./read-proc.ts";

export interface MemInfo {
  totalBytes: number;
  availableBytes: number;
  pageCacheBytes: number;
}

const scan = new Scan(new Uint8Array(0), 0);

export function parseMeminfoBuf(buf: Uint8Array, len: number): MemInfo {
  const s = scan.reset(buf, len);
  let total = 0, avail = 0, cached = 0, shmem = 0, found = 0;
  do {
    if (s.at("MemTotal:")) (total = s.int() * 1024), found++;
    else if (s.at("MemAvailable:")) (avail = s.int() * 1024), found++;
    else if (s.at("Cached:")) (cached = s.int() * 1024), found++;
    else if (s.at("Shmem:")) (shmem = s.int() * 1024), found++;
    if (found === 4) break;
  } while (s.nextLine());
  return { totalBytes: total || 0, availableBytes: avail || 0, pageCacheBytes: Math.max(0, (cached || 0) - (shmem || 0)) };
}

export function parseMeminfo(text: string): MemInfo {
  const b = textBuffer(text);
  return parseMeminfoBuf(b, b.length);
}

const files = new Map<string, ProcFile>();
export function readMeminfo(path = "/proc/meminfo"): MemInfo | null {
  let f = files.get(path);
  if (!f) files.set(path, (f = new ProcFile(path)));
  const n = f.read();
  return n <= 0 ? null : parseMeminfoBuf(sharedBuffer(), n);
}
