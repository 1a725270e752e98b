// CPU / IO / memory pressure stall information from /proc/pressure/* (PSI,
// Linux >= 4.20 with CONFIG_PSI; can be disabled with psi=0). Each file has
// "some avg10=.. avg60=.. avg300=.. total=<us>" and, for io and memory, a
// "full ..." line. We keep the cumulative `total` (microseconds of stall) and
// turn it into a share of wall time over each interval.

import { ProcFile, Scan, sharedBuffer, textBuffer } from "./read-proc.ts";

export interface PressureTotals {
  cpuSome: number;
  ioSome: number;
  ioFull: number;
  memSome: number;
  memFull: number;
}

const scan = new Scan(new Uint8Array(0), 0);

export function parsePressureBuf(buf: Uint8Array, len: number): { some: number; full: number } {
  const s = scan.reset(buf, len);
  let some = NaN, full = NaN;
  do {
    const isSome = s.at("some"), isFull = s.at("full");
    if (!isSome && !isFull) continue;
    // "total=" is where the line's first "t" is; found natively, then checked.
    const eol = buf.indexOf(10, s.pos);
    const lineEnd = eol < 0 || eol > len ? len : eol;
    for (let t = buf.indexOf(116, s.pos); ; t = buf.indexOf(116, t + 1)) {
      if (t < 0 || t >= lineEnd) {
        s.pos = lineEnd;
        break;
      }
      s.pos = t;
      if (s.at("total=")) break;
    }
    if (!s.at("total=")) continue;
    const v = s.int();
    if (isSome) some = v;
    else full = v;
  } while (s.nextLine());
  return { some, full };
}

export function parsePressure(text: string): { some: number; full: number } {
  const b = textBuffer(text);
  return parsePressureBuf(b, b.length);
}

const files = new Map<string, ProcFile>();
function readOne(path: string): { some: number; full: number } | null {
  let f = files.get(path);
  if (!f) files.set(path, (f = new ProcFile(path)));
  const n = f.read();
  return n <= 0 ? null : parsePressureBuf(sharedBuffer(), n);
}

/** NaN for whatever the kernel does not provide. Returns null when /proc/pressure is absent. */
export function readPressure(dir = "/proc/pressure"): PressureTotals | null {
  const c = readOne(`${dir}/cpu`);
  const i = readOne(`${dir}/io`);
  const m = readOne(`${dir}/memory`);
  if (!c && !i && !m) return null;
  const nan = { some: NaN, full: NaN };
  const cc = c ?? nan, ii = i ?? nan, mm = m ?? nan;
  return { cpuSome: cc.some, ioSome: ii.some, ioFull: ii.full, memSome: mm.some, memFull: mm.full };
}
