// The child's whole process tree, found and tracked through /proc.
//
// Discovery. Every slow tick (about every 200 ms, see sampler.ts) the main thread's /proc/<pid>/task/<pid>/children of
// every tracked process is read (cheap: one small file per process); every
// `fullEvery` slow ticks (the sampler sets about every 2 s) the children files of all
// threads are read, because a process may fork from any thread. Where the
// kernel lacks those files (CONFIG_PROC_CHILDREN=n), a scan of /proc/*/stat
// (ppid field) replaces them at the full-discovery cadence. A tracked process
// stays tracked while it lives even if it is reparented away from the tree.
// A pid is identified by (pid, starttime), so pid reuse is detected.
//
// CPU and I/O accounting across exits. The tree's cumulative CPU seconds are
//   sum over live members of (utime + stime + cutime + cstime)
//   + for members that died while their parent was NOT a live member (orphans,
//     or parent and child gone in the same tick): their last-seen totals.
// A member that died while its parent is a live member is counted through that
// parent: the kernel adds a reaped child's utime+cutime / stime+cstime to the
// parent's cutime / cstime (wait_task_zombie), and likewise folds the child's
// I/O counters into the parent's /proc/<pid>/io. So children that lived for
// less than one tick (never seen at all) are still accounted once their parent
// waits for them, and processes we did see are never counted twice. Limits:
// children reaped automatically (SIGCHLD set to SIG_IGN / SA_NOCLDWAIT) are not
// added to the parent's counters; an orphan loses what it used after its last
// sample (< one interval). Totals are clamped to be monotonic, so a race
// between a child's exit and its parent's wait() never makes them go back.
// Counters that existed before attaching (follow mode, setRootPid) are taken
// as a baseline and not attributed to the start-up.

import { listDir, ProcFile, readProc, readProcText, Scan, sharedBuffer } from "./read-proc.ts";
import { parseProcIoInto, type ProcIo } from "./proc-io.ts";

/** USER_HZ: the unit of /proc/<pid>/stat times. 100 on every mainstream Linux ABI. */
export const CLK_TCK = 100;

export interface ProcStat {
  pid: number;
  comm: string;
  state: string;
  ppid: number;
  utime: number;
  stime: number;
  cutime: number;
  cstime: number;
  threads: number;
  startTime: number;
  rssPages: number;
}

export function parsePidStat(text: string): ProcStat | null {
  const open = text.indexOf("(");
  const close = text.lastIndexOf(")");
  if (open < 0 || close < 0) return null;
  const f = text.slice(close + 2).split(" ");
  if (f.length < 22) return null;
  return {
    pid: Number(text.slice(0, open)),
    comm: text.slice(open + 1, close),
    state: f[0],
    ppid: Number(f[1]),
    utime: Number(f[11]),
    stime: Number(f[12]),
    cutime: Number(f[13]),
    cstime: Number(f[14]),
    threads: Number(f[17]),
    startTime: Number(f[19]),
    rssPages: Number(f[21]),
  };
}

const scan = new Scan(new Uint8Array(0), 0);

/** Byte parser for the hot path: fills `out` (comm left as is); false if malformed. */
export function parsePidStatInto(buf: Uint8Array, len: number, out: ProcStat): boolean {
  let close = len - 1;
  while (close > 0 && buf[close] !== 41) close--; // last ')'
  if (close <= 0) return false;
  const s = scan.reset(buf, len, close + 2);
  out.state = String.fromCharCode(buf[s.pos]);
  s.pos++;
  const f = STAT_FIELDS;
  for (let i = 1; i <= 21; i++) f[i] = s.int();
  out.ppid = f[1];
  out.utime = f[11];
  out.stime = f[12];
  out.cutime = f[13];
  out.cstime = f[14];
  out.threads = f[17];
  out.startTime = f[19];
  out.rssPages = f[21];
  return !Number.isNaN(f[21]);
}
const STAT_FIELDS = new Float64Array(22);

export function readPidStat(pid: number, root = "/proc"): ProcStat | null {
  const t = readProcText(`${root}/${pid}/stat`);
  return t === null ? null : parsePidStat(t);
}

function parsePidList(text: string | null): number[] {
  if (!text) return [];
  const out: number[] = [];
  for (const s of text.split(" ")) {
    if (s.length === 0) continue;
    const n = Number(s);
    if (Number.isInteger(n) && n > 0) out.push(n);
  }
  return out;
}

let pageSizeCache = 0;
/** Page size, calibrated once from /proc/self/statm against VmRSS (no sysconf in Bun). */
export function pageSize(): number {
  if (pageSizeCache) return pageSizeCache;
  pageSizeCache = 4096;
  try {
    const statm = readProcText("/proc/self/statm");
    const status = readProcText("/proc/self/status");
    const pages = statm ? Number(statm.split(" ")[1]) : 0;
    const m = status ? /VmRSS:\s+(\d+)\s+kB/.exec(status) : null;
    if (pages > 0 && m) {
      const ratio = (Number(m[1]) * 1024) / pages;
      const p = 2 ** Math.round(Math.log2(ratio));
      if (p >= 4096 && p <= 65536) pageSizeCache = p;
    }
  } catch {
    /* keep 4096 */
  }
  return pageSizeCache;
}

interface Counters {
  user: number; // ticks
  sys: number;
  rchar: number;
  wchar: number;
  readBytes: number;
  writeBytes: number;
}

const zero = (): Counters => ({ user: 0, sys: 0, rchar: 0, wchar: 0, readBytes: 0, writeBytes: 0 });

interface Member {
  pid: number;
  startTime: number;
  ppid: number;
  comm: string;
  threads: number;
  rssPages: number;
  /** Own + reaped-children counters, last seen (per-member monotonic). */
  cur: Counters;
  /** Pre-attach counters not attributed to the start-up. */
  base: Counters;
  ioReadable: boolean;
  ioDenied: boolean;
  statFile: ProcFile;
  ioFile: ProcFile;
  kidsFile: ProcFile;
}

function closeMember(m: Member): void {
  m.statFile.close();
  m.ioFile.close();
  m.kidsFile.close();
}

export interface TreeTotals {
  /** Cumulative user / system CPU seconds of the tree since attach (monotonic). */
  userS: number;
  systemS: number;
  rchar: number;
  wchar: number;
  readBytes: number;
  writeBytes: number;
  /** Gauges at this tick. */
  processes: number;
  threads: number;
  rssBytes: number;
  /** Live members whose /proc/<pid>/io could not be read for lack of permission. */
  ioDenied: number;
}

export interface ProcessTreeOptions {
  procRoot?: string;
  /** Read all threads' children files / scan /proc every this many slow ticks. */
  fullEvery?: number;
}

export class ProcessTree {
  private members = new Map<number, Member>();
  private dead: Counters = zero();
  private last: TreeTotals | null = null;
  private tick = 0;
  private childrenSupported: boolean | null = null;
  private baselineNew = true;
  private readonly procRoot: string;
  private readonly fullEvery: number;
  private readonly pageBytes: number;
  /** pids for which /proc/<pid>/io was denied at least once. */
  readonly ioDeniedPids = new Set<number>();
  /** pids ever tracked (for diagnostics and tests). */
  readonly seenPids = new Set<number>();
  rootPid = 0;
  private readIo = true;
  private readonly io: ProcIo = { rchar: 0, wchar: 0, readBytes: 0, writeBytes: 0 };
  private readonly st: ProcStat = {
    pid: 0, comm: "", state: "", ppid: 0, utime: 0, stime: 0, cutime: 0, cstime: 0, threads: 0, startTime: 0, rssPages: 0,
  };

  constructor(opts: ProcessTreeOptions = {}) {
    this.procRoot = opts.procRoot ?? "/proc";
    this.fullEvery = Math.max(1, opts.fullEvery ?? 10);
    this.pageBytes = pageSize();
  }

  /** (Re)attach to a new root. Counters accumulated so far are kept; the new tree's history is a baseline. */
  setRoot(pid: number): void {
    if (pid === this.rootPid) return;
    if (this.last) {
      // Freeze what the old tree has accumulated; the new tree starts from there.
      this.dead = {
        user: this.last.userS * CLK_TCK,
        sys: this.last.systemS * CLK_TCK,
        rchar: this.last.rchar,
        wchar: this.last.wchar,
        readBytes: this.last.readBytes,
        writeBytes: this.last.writeBytes,
      };
    }
    for (const m of this.members.values()) closeMember(m);
    this.members.clear();
    this.rootPid = pid;
    this.baselineNew = true;
    this.tick = 0; // full discovery on the next sample
    if (pid > 0) this.addMember(pid);
  }

  livePids(): number[] {
    return [...this.members.keys()];
  }

  private addMember(pid: number, st?: ProcStat | null): Member | null {
    const s = st ?? readPidStat(pid, this.procRoot);
    if (!s) return null;
    const m: Member = {
      pid,
      startTime: s.startTime,
      ppid: s.ppid,
      comm: s.comm,
      threads: s.threads,
      rssPages: s.rssPages,
      cur: zero(),
      base: zero(),
      ioReadable: false,
      ioDenied: false,
      statFile: new ProcFile(`${this.procRoot}/${pid}/stat`),
      ioFile: new ProcFile(`${this.procRoot}/${pid}/io`),
      kidsFile: new ProcFile(`${this.procRoot}/${pid}/task/${pid}/children`),
    };
    this.updateCounters(m, s);
    if (this.baselineNew) m.base = { ...m.cur };
    this.members.set(pid, m);
    this.seenPids.add(pid);
    return m;
  }

  private updateCounters(m: Member, s: ProcStat): void {
    m.ppid = s.ppid;
    m.threads = s.threads;
    m.rssPages = s.rssPages;
    m.cur.user = Math.max(m.cur.user, s.utime + s.cutime);
    m.cur.sys = Math.max(m.cur.sys, s.stime + s.cstime);
    if (!this.readIo && m.ioReadable) return;
    const n = m.ioFile.read();
    if (n > 0) {
      const io: ProcIo = this.io;
      parseProcIoInto(sharedBuffer(), n, io);
      m.ioReadable = true;
      m.ioDenied = false;
      m.cur.rchar = Math.max(m.cur.rchar, io.rchar);
      m.cur.wchar = Math.max(m.cur.wchar, io.wchar);
      m.cur.readBytes = Math.max(m.cur.readBytes, io.readBytes);
      m.cur.writeBytes = Math.max(m.cur.writeBytes, io.writeBytes);
    } else if (m.ioFile.code === "EACCES" || m.ioFile.code === "EPERM") {
      m.ioDenied = true;
      this.ioDeniedPids.add(m.pid);
    }
  }

  /** One sampling pass: refresh members, discover new processes, account exits. */
  /**
   * `slow` false: refresh CPU counters only, keeping the last I/O counters (cumulative) and
   * skipping discovery; the sampler passes true about every 200 ms and at boundaries.
   */
  sample(slow = true): TreeTotals {
    this.readIo = slow;
    const full = slow && this.tick % this.fullEvery === 0;
    if (slow) this.tick++;
    const died: Member[] = [];
    for (const m of this.members.values()) {
      const n = m.statFile.read();
      const s = this.st;
      if (n <= 0 || !parsePidStatInto(sharedBuffer(), n, s) || s.startTime !== m.startTime) died.push(m);
      else this.updateCounters(m, s);
    }
    for (const m of died) {
      this.members.delete(m.pid);
      closeMember(m);
    }
    if (this.rootPid > 0 && (slow || this.baselineNew)) this.discover(full);
    for (const m of died) {
      const parent = this.members.get(m.ppid);
      if (parent) {
        // Reaped by a live member: its counters now sit in the parent's cutime/cstime and io.
        addInto(parent.base, m.base);
      } else {
        this.dead.user += m.cur.user - m.base.user;
        this.dead.sys += m.cur.sys - m.base.sys;
        this.dead.rchar += m.cur.rchar - m.base.rchar;
        this.dead.wchar += m.cur.wchar - m.base.wchar;
        this.dead.readBytes += m.cur.readBytes - m.base.readBytes;
        this.dead.writeBytes += m.cur.writeBytes - m.base.writeBytes;
      }
    }
    this.baselineNew = false;
    const sum = { ...this.dead };
    let threads = 0, rss = 0, denied = 0;
    for (const m of this.members.values()) {
      sum.user += m.cur.user - m.base.user;
      sum.sys += m.cur.sys - m.base.sys;
      sum.rchar += m.cur.rchar - m.base.rchar;
      sum.wchar += m.cur.wchar - m.base.wchar;
      sum.readBytes += m.cur.readBytes - m.base.readBytes;
      sum.writeBytes += m.cur.writeBytes - m.base.writeBytes;
      threads += m.threads;
      rss += m.rssPages;
      if (m.ioDenied) denied++;
    }
    const p = this.last;
    const totals: TreeTotals = {
      userS: Math.max(p?.userS ?? 0, sum.user / CLK_TCK),
      systemS: Math.max(p?.systemS ?? 0, sum.sys / CLK_TCK),
      rchar: Math.max(p?.rchar ?? 0, sum.rchar),
      wchar: Math.max(p?.wchar ?? 0, sum.wchar),
      readBytes: Math.max(p?.readBytes ?? 0, sum.readBytes),
      writeBytes: Math.max(p?.writeBytes ?? 0, sum.writeBytes),
      processes: this.members.size,
      threads,
      rssBytes: rss * this.pageBytes,
      ioDenied: denied,
    };
    this.last = totals;
    return totals;
  }

  private discover(full: boolean): void {
    if (this.childrenSupported === null) {
      const r = readProc(`${this.procRoot}/${this.rootPid}/task/${this.rootPid}/children`);
      if (r.text !== null) this.childrenSupported = true;
      else if (r.code === "ENOENT" && readProcText(`${this.procRoot}/${this.rootPid}/stat`) !== null) {
        this.childrenSupported = false;
      } else return; // root gone or unreadable: decide later
    }
    if (!this.childrenSupported) {
      if (full) this.scanProc();
      return;
    }
    const queue = [...this.members.values()];
    while (queue.length > 0) {
      const m = queue.pop()!;
      let kids: number[];
      if (full) {
        kids = [];
        const tids = listDir(`${this.procRoot}/${m.pid}/task`) ?? [String(m.pid)];
        for (const tid of tids) {
          for (const k of parsePidList(readProcText(`${this.procRoot}/${m.pid}/task/${tid}/children`))) kids.push(k);
        }
      } else {
        kids = KIDS;
        kids.length = 0;
        const n = m.kidsFile.read();
        if (n > 0) {
          const s = scan.reset(sharedBuffer(), n);
          for (let k = s.int(); !Number.isNaN(k); k = s.int()) kids.push(k);
        }
      }
      for (const k of kids) {
        if (this.members.has(k)) continue;
        const nm = this.addMember(k);
        if (nm) queue.push(nm);
      }
    }
  }

  /** Fallback discovery: one pass over /proc/[pid]/stat, following ppid links from tracked members. */
  private scanProc(): void {
    const names = listDir(this.procRoot);
    if (!names) return;
    const byParent = new Map<number, ProcStat[]>();
    for (const n of names) {
      const c = n.charCodeAt(0);
      if (c < 48 || c > 57) continue;
      const pid = Number(n);
      if (this.members.has(pid)) continue;
      const s = readPidStat(pid, this.procRoot);
      if (!s) continue;
      const list = byParent.get(s.ppid);
      if (list) list.push(s);
      else byParent.set(s.ppid, [s]);
    }
    const queue = [...this.members.keys()];
    while (queue.length > 0) {
      const pid = queue.pop()!;
      for (const s of byParent.get(pid) ?? []) {
        if (this.members.has(s.pid)) continue;
        if (this.addMember(s.pid, s)) queue.push(s.pid);
      }
    }
  }
}

const KIDS: number[] = [];

function addInto(a: Counters, b: Counters): void {
  a.user += b.user;
  a.sys += b.sys;
  a.rchar += b.rchar;
  a.wchar += b.wchar;
  a.readBytes += b.readBytes;
  a.writeBytes += b.writeBytes;
}
