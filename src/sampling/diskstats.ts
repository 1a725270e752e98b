// System-wide disk read/write bytes from /proc/diskstats.
//
// Fields after "major minor name": reads completed, reads merged, sectors read,
// ms reading, writes completed, writes merged, sectors written, ... Sectors in
// diskstats are always 512 bytes, whatever the device's block size.
// Only whole physical disks count: partitions would double-count their disk,
// and loop, ram, zram, device-mapper (dm-*) and md devices sit on top of (or
// beside) real disks. Network file systems (NFS, Lustre, FUSE mounts such as
// s3fs) never appear here: reads of weights from them show up in the process
// tree's rchar but not in system.disk.io.

import { listDir, ProcFile, Scan, sharedBuffer, textBuffer } from "./read-proc.ts";

export interface DiskTotals {
  readBytes: number;
  writeBytes: number;
}

const VIRTUAL = /^(loop|ram|zram|dm-|md|nbd|sr|fd)/;
const PARTITION = /^((sd|vd|xvd|hd)[a-z]+\d+|(nvme\d+n\d+|mmcblk\d+|nbd\d+)p\d+)$/;

/** Whole disks from /sys/block (which lists no partitions), minus virtual devices. */
export function physicalDisks(sysBlock = "/sys/block"): Set<string> | null {
  const names = listDir(sysBlock);
  if (!names) return null;
  return new Set(names.filter((n) => !VIRTUAL.test(n)));
}

const scan = new Scan(new Uint8Array(0), 0);

export function parseDiskstatsBuf(buf: Uint8Array, len: number, disks: Set<string> | null): DiskTotals {
  const s = scan.reset(buf, len);
  let readBytes = 0;
  let writeBytes = 0;
  do {
    s.int(); // major
    s.int(); // minor
    const name = s.word();
    if (name === "" || (disks ? !disks.has(name) : VIRTUAL.test(name) || PARTITION.test(name))) continue;
    s.int(); // reads completed
    s.int(); // reads merged
    const sectorsRead = s.int();
    s.int(); // ms reading
    s.int(); // writes completed
    s.int(); // writes merged
    const sectorsWritten = s.int();
    readBytes += (sectorsRead || 0) * 512;
    writeBytes += (sectorsWritten || 0) * 512;
  } while (s.nextLine());
  return { readBytes, writeBytes };
}

export function parseDiskstats(text: string, disks: Set<string> | null): DiskTotals {
  const b = textBuffer(text);
  return parseDiskstatsBuf(b, b.length, disks);
}

const files = new Map<string, ProcFile>();
export function readDiskstats(disks: Set<string> | null, path = "/proc/diskstats"): DiskTotals | null {
  let f = files.get(path);
  if (!f) files.set(path, (f = new ProcFile(path)));
  const n = f.read();
  return n <= 0 ? null : parseDiskstatsBuf(sharedBuffer(), n, disks);
}
