export interface GpuReading {
  index: number;
  uuid: string;
  name: string;
  /** 0..1, NaN when the tool reports it as unavailable. */
  util: number;
  memUsedBytes: number;
  memTotalBytes: number;
  powerW: number;
  smClockMhz: number;
}

export interface GpuMonitor {
  readonly source: "nvidia-smi" | "rocm-smi" | "amd-smi";
  /** Why GPU metrics are missing (or stopped), null while they flow. */
  reason(): string | null;
  readings(): number;
  /** Called from every sampling tick (drain buffered output), where the monitor needs it. */
  poll?(): void;
  stop(): Promise<void>;
}

/** nvidia-smi / rocm-smi "not available" markers: [N/A], [Not Supported], N/A, [Unknown Error], ... */
export function numOrNaN(s: string | undefined): number {
  if (s === undefined) return NaN;
  const t = s.trim();
  if (t === "" || t.startsWith("[") || /^n\/a$/i.test(t)) return NaN;
  const n = Number(t);
  return Number.isFinite(n) ? n : NaN;
}
