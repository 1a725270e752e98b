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

import { listDir, readProcText } from "./read-proc.ts";

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

export function parseDiskstats(text: string, disks: Set<string> | null): DiskTotals {
  let readBytes = 0;
  let writeBytes = 0;
  for (const line of text.split("\n")) {
    const f = line.trim().split(/\s+/);
    if (f.length < 10) continue;
    const name = f[2];
    if (disks ? !disks.has(name) : VIRTUAL.test(name) || PARTITION.test(name)) continue;
    readBytes += (+f[5] || 0) * 512;
    writeBytes += (+f[9] || 0) * 512;
  }
  return { readBytes, writeBytes };
}

export function readDiskstats(disks: Set<string> | null, path = "/proc/diskstats"): DiskTotals | null {
  const text = readProcText(path);
  return text === null ? null : parseDiskstats(text, disks);
}
