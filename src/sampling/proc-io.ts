// Per-process I/O counters from /proc/<pid>/io.
//
// rchar/wchar: bytes passed to read()/write()-like syscalls (page-cache hits,
// pipes and sockets included). read_bytes/write_bytes: bytes the process caused
// to be fetched from / sent to the storage layer (block I/O). The file is only
// readable for the same UID or with CAP_SYS_PTRACE (ptrace access mode
// PTRACE_MODE_READ_FSCREDS); otherwise reads fail with EACCES.
//
// The kernel folds the counters of reaped children into the parent's
// /proc/<pid>/io (wait_task_zombie adds them to signal->ioac), exactly as it
// does for CPU time in cutime/cstime; process-tree.ts relies on that.

import { readProc, Scan } from "./read-proc.ts";

export interface ProcIo {
  rchar: number;
  wchar: number;
  readBytes: number;
  writeBytes: number;
}

export function parseProcIo(text: string): ProcIo {
  const io: ProcIo = { rchar: 0, wchar: 0, readBytes: 0, writeBytes: 0 };
  for (const line of text.split("\n")) {
    const c = line.indexOf(":");
    if (c < 0) continue;
    const key = line.slice(0, c);
    const v = Number(line.slice(c + 1));
    if (!Number.isFinite(v)) continue;
    if (key === "rchar") io.rchar = v;
    else if (key === "wchar") io.wchar = v;
    else if (key === "read_bytes") io.readBytes = v;
    else if (key === "write_bytes") io.writeBytes = v;
  }
  return io;
}

export type ProcIoResult = { io: ProcIo; denied: false } | { io: null; denied: boolean };

export function readProcIo(pid: number, root = "/proc"): ProcIoResult {
  const r = readProc(`${root}/${pid}/io`);
  if (r.text === null) return { io: null, denied: r.code === "EACCES" || r.code === "EPERM" };
  return { io: parseProcIo(r.text), denied: false };
}

const scan = new Scan(new Uint8Array(0), 0);

/** Parses /proc/<pid>/io bytes (fixed line order: rchar wchar syscr syscw read_bytes write_bytes ...). */
export function parseProcIoInto(buf: Uint8Array, len: number, out: ProcIo): void {
  const s = scan.reset(buf, len);
  out.rchar = s.int() || 0;
  s.nextLine();
  out.wchar = s.int() || 0;
  s.nextLine();
  s.nextLine(); // syscr
  s.nextLine(); // syscw
  out.readBytes = s.int() || 0;
  s.nextLine();
  out.writeBytes = s.int() || 0;
}
