// Small synchronous reads of /proc and /sys files. They cost a few microseconds
// each (measured: 2-6 us for /proc/stat, /proc/<pid>/stat, /proc/<pid>/io under
// Bun 1.4.5), far less than any asynchronous round trip, so the hot path reads
// them synchronously. Never throws: a missing or unreadable file is reported
// through the returned error code.

import { readFileSync, readdirSync } from "node:fs";

export interface ReadResult {
  text: string | null;
  /** errno code ("ENOENT", "EACCES", "ESRCH", ...) when text is null. */
  code: string | null;
}

export function readProc(path: string): ReadResult {
  try {
    return { text: readFileSync(path, "latin1"), code: null };
  } catch (e) {
    return { text: null, code: (e as NodeJS.ErrnoException)?.code ?? "EIO" };
  }
}

export function readProcText(path: string): string | null {
  try {
    return readFileSync(path, "latin1");
  } catch {
    return null;
  }
}

export function listDir(path: string): string[] | null {
  try {
    return readdirSync(path);
  } catch {
    return null;
  }
}

/** Epoch milliseconds at high resolution. */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}
