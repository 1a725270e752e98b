// CPU / IO / memory pressure stall information from /proc/pressure/* (PSI,
// Linux >= 4.20 with CONFIG_PSI; can be disabled with psi=0). Each file has
// "some avg10=.. avg60=.. avg300=.. total=<us>" and, for io and memory, a
// "full ..." line. We keep the cumulative `total` (microseconds of stall) and
// turn it into a share of wall time over each interval.

import { readProcText } from "./read-proc.ts";

export interface PressureTotals {
  cpuSome: number;
  ioSome: number;
  ioFull: number;
  memSome: number;
  memFull: number;
}

export function parsePressure(text: string): { some: number; full: number } {
  let some = NaN, full = NaN;
  for (const line of text.split("\n")) {
    const m = /total=(\d+)/.exec(line);
    if (!m) continue;
    if (line.startsWith("some")) some = Number(m[1]);
    else if (line.startsWith("full")) full = Number(m[1]);
  }
  return { some, full };
}

/** NaN for whatever the kernel does not provide. Returns null when /proc/pressure is absent. */
export function readPressure(dir = "/proc/pressure"): PressureTotals | null {
  const cpu = readProcText(`${dir}/cpu`);
  const io = readProcText(`${dir}/io`);
  const mem = readProcText(`${dir}/memory`);
  if (cpu === null && io === null && mem === null) return null;
  const c = cpu ? parsePressure(cpu) : { some: NaN, full: NaN };
  const i = io ? parsePressure(io) : { some: NaN, full: NaN };
  const m = mem ? parsePressure(mem) : { some: NaN, full: NaN };
  return { cpuSome: c.some, ioSome: i.some, ioFull: i.full, memSome: m.some, memFull: m.full };
}
