// AMD GPU sampling via rocm-smi (preferred: stable --json keys) or amd-smi.
// Neither has a streaming CSV mode like nvidia-smi's -lms, so this polls one
// short-lived, asynchronous (never blocking) call at most once a second, and
// never starts a new one while the previous is still running.
// NOTE: parsers are written against the publicly documented JSON shapes and
// have not been checked against a real AMD GPU here; unknown shapes only set a
// reason, they never throw.

import { numOrNaN, type GpuMonitor, type GpuReading } from "./gpu-types.ts";
import { resolveTool } from "./nvidia-smi.ts";

/** rocm-smi --showuse --showmeminfo vram --showpower --showclocks --json */
export function parseRocmSmiJson(text: string): GpuReading[] {
  const out: GpuReading[] = [];
  const j = JSON.parse(text) as Record<string, Record<string, string>>;
  for (const [card, v] of Object.entries(j)) {
    const m = /^card(\d+)$/.exec(card);
    if (!m || typeof v !== "object" || v === null) continue;
    const find = (re: RegExp) => {
      for (const [k, val] of Object.entries(v)) if (re.test(k)) return String(val);
      return undefined;
    };
    const sclk = find(/^sclk clock speed/i);
    out.push({
      index: Number(m[1]),
      uuid: find(/unique id/i) ?? "",
      name: find(/card (series|model)/i) ?? "",
      util: numOrNaN(find(/^GPU use \(%\)/i)) / 100,
      memUsedBytes: numOrNaN(find(/VRAM Total Used Memory \(B\)/i)),
      memTotalBytes: numOrNaN(find(/VRAM Total Memory \(B\)/i)),
      powerW: numOrNaN(find(/Power \(W\)/i)),
      smClockMhz: sclk ? numOrNaN(/\((\d+)\s*Mhz\)/i.exec(sclk)?.[1]) : NaN,
    });
  }
  return out;
}

const UNIT_BYTES: Record<string, number> = { B: 1, KB: 1024, MB: 1024 ** 2, GB: 1024 ** 3 };
function valueOf(x: unknown): { v: number; unit: string } {
  if (x && typeof x === "object" && "value" in (x as object)) {
    const o = x as { value: unknown; unit?: unknown };
    return { v: numOrNaN(String(o.value)), unit: String(o.unit ?? "") };
  }
  return { v: numOrNaN(x === undefined ? undefined : String(x)), unit: "" };
}
function bytes(x: unknown): number {
  const { v, unit } = valueOf(x);
  return v * (UNIT_BYTES[unit.toUpperCase()] ?? 1024 ** 2);
}

/** amd-smi metric --usage --power --mem-usage --clock --json (list of {gpu, usage, power, mem_usage, clock}). */
export function parseAmdSmiJson(text: string): GpuReading[] {
  let j = JSON.parse(text) as unknown;
  if (j && !Array.isArray(j) && typeof j === "object" && Array.isArray((j as { gpu_data?: unknown }).gpu_data)) {
    j = (j as { gpu_data: unknown[] }).gpu_data;
  }
  if (!Array.isArray(j)) return [];
  const out: GpuReading[] = [];
  for (const g of j as Record<string, any>[]) {
    if (!g || typeof g !== "object" || !Number.isInteger(Number(g.gpu))) continue;
    const clk = g.clock?.gfx_0?.clk ?? g.clock?.gfx?.clk;
    out.push({
      index: Number(g.gpu),
      uuid: "",
      name: "",
      util: valueOf(g.usage?.gfx_activity).v / 100,
      memUsedBytes: bytes(g.mem_usage?.used_vram),
      memTotalBytes: bytes(g.mem_usage?.total_vram),
      powerW: valueOf(g.power?.socket_power ?? g.power?.average_socket_power).v,
      smClockMhz: valueOf(clk).v,
    });
  }
  return out;
}

export class AmdSmiMonitor implements GpuMonitor {
  readonly source: "rocm-smi" | "amd-smi";
  private timer: ReturnType<typeof setInterval> | null = null;
  private busy = false;
  private why: string | null = null;
  private n = 0;
  private failures = 0;
  private current: ReturnType<typeof Bun.spawn> | null = null;

  private constructor(
    private readonly exe: string,
    source: "rocm-smi" | "amd-smi",
    private readonly intervalMs: number,
    private readonly onReading: (t: number, r: GpuReading) => void,
    private readonly now: () => number,
  ) {
    this.source = source;
  }

  /** A monitor for whichever AMD tool is on PATH, or null when neither is. */
  static detect(intervalMs: number, onReading: (t: number, r: GpuReading) => void, now: () => number): AmdSmiMonitor | null {
    const rocm = resolveTool("rocm-smi");
    if (rocm) return new AmdSmiMonitor(rocm, "rocm-smi", intervalMs, onReading, now);
    const amd = resolveTool("amd-smi");
    if (amd) return new AmdSmiMonitor(amd, "amd-smi", intervalMs, onReading, now);
    return null;
  }

  start(): void {
    const every = Math.max(1000, this.intervalMs);
    this.timer = setInterval(() => void this.query(), every);
    (this.timer as { unref?: () => void }).unref?.();
    void this.query();
  }

  private args(): string[] {
    return this.source === "rocm-smi"
      ? ["--showuse", "--showmeminfo", "vram", "--showpower", "--showclocks", "--json"]
      : ["metric", "--usage", "--power", "--mem-usage", "--clock", "--json"];
  }

  private async query(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      const p = Bun.spawn([this.exe, ...this.args()], {
        stdin: "ignore",
        env: { ...process.env },
        stdout: "pipe",
        stderr: "ignore",
      });
      this.current = p;
      p.unref();
      const text = await new Response(p.stdout as ReadableStream).text();
      const code = await p.exited;
      const t = this.now();
      const rs = this.source === "rocm-smi" ? parseRocmSmiJson(text) : parseAmdSmiJson(text);
      if (code !== 0 || rs.length === 0) throw new Error(`${this.source} exited ${code} with no GPU readings`);
      for (const r of rs) this.onReading(t, r);
      this.n += rs.length;
      this.why = null;
      this.failures = 0;
    } catch (e) {
      this.failures++;
      this.why = `${this.source} failed: ${String((e as Error)?.message ?? e).slice(0, 200)}`;
      if (this.failures >= 5 && this.timer) {
        clearInterval(this.timer);
        this.timer = null;
        this.why += " (gave up after 5 failures)";
      }
    } finally {
      this.current = null;
      this.busy = false;
    }
  }

  reason(): string | null {
    return this.why ?? (this.n === 0 ? `no readings from ${this.source} yet` : null);
  }

  readings(): number {
    return this.n;
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    try {
      this.current?.kill("SIGTERM");
    } catch {
      /* gone */
    }
  }
}
