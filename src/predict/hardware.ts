// The hardware a start-up runs on, from wherever it is known: `--gpu <name>[x<count>]`,
// the live host inventory (nvidia-smi, /proc), or what an imported log prints
// (./log-hardware.ts). The predictor needs a *class* (src/predict/hardware-priors.json,
// "classes": name patterns as data), the GPU count and memory, and whether the
// class is the study's reference hardware.

import type { Attributes } from "../state/types.ts";
import type { LogFacts, Platform } from "./log-hardware.ts";
import priorsJson from "./hardware-priors.json";

export interface Hardware {
  /** GPU product name as given / printed ("NVIDIA L4", "GB10"), or null. */
  gpu: string | null;
  gpu_count: number;
  gpu_memory_gib: number | null;
  compute_capability: string | null;
  platform: Platform | null;
  cpu_model: string | null;
  cpu_cores: number | null;
  /** Where the GPU fact came from. */
  source: "option" | "inventory" | "log" | "none";
}

interface ClassRule {
  id: string;
  description: string;
  names?: string;
  platforms?: string[];
  max_memory_gib?: number;
  min_memory_gib?: number;
  max_compute_capability?: number;
}

const CLASSES = (priorsJson as unknown as { classes: ClassRule[] }).classes;

export function emptyHardware(): Hardware {
  return { gpu: null, gpu_count: 1, gpu_memory_gib: null, compute_capability: null, platform: null, cpu_model: null, cpu_cores: null, source: "none" };
}

/**
 * `--gpu <name>[x<count>]`: "L4", "A100-80GBx8", "NVIDIA GeForce RTX 4090", "h100x2", "cpu".
 * Throws a one-line Error on an empty or malformed value.
 */
export function parseGpuOption(value: string): { gpu: string; count: number } {
  const v = value.trim();
  // the count follows a lower-case "x" (or "×", "*") right after the name: "A100x8"; "RTX 4090" has none
  const m = /^(.*?[^\s])(?:[x×*](\d{1,4}))?$/.exec(v);
  if (!v || !m || !/[A-Za-z0-9]/.test(m[1])) throw new Error(`invalid --gpu ${JSON.stringify(value)}: expected <name>[x<count>], e.g. L4, A100x8, "RTX 4090"`);
  const count = m[2] ? Number(m[2]) : 1;
  if (!(count >= 1)) throw new Error(`invalid --gpu ${JSON.stringify(value)}: the count must be at least 1`);
  return { gpu: m[1].trim(), count };
}

/** Hardware from an imported log's facts, with an optional `--gpu` override. */
export function hardwareFromLog(f: LogFacts, gpuOption?: string | null): Hardware {
  const h = emptyHardware();
  h.platform = f.platform;
  h.gpu_memory_gib = f.gpu_memory_gib;
  h.compute_capability = f.compute_capability;
  h.cpu_model = f.cpu_hint;
  h.gpu_count = Math.max(1, f.tensor_parallel_size * f.pipeline_parallel_size * f.data_parallel_size);
  if (f.gpu_names.length) { h.gpu = f.gpu_names[0]; h.source = "log"; }
  else if (f.gfx_arch) { h.gpu = f.gfx_arch; h.source = "log"; }
  if (gpuOption) applyOption(h, gpuOption);
  return h;
}

/** Hardware from the live host inventory's resource attributes (src/sampling/inventory.ts). */
export function hardwareFromInventory(attrs: Attributes, gpuOption?: string | null): Hardware {
  const h = emptyHardware();
  const models = attrs["vllm.startup.gpu.models"];
  const mem = attrs["vllm.startup.gpu.memory.limit"];
  const count = attrs["vllm.startup.gpu.count"];
  if (Array.isArray(models) && models.length && typeof models[0] === "string" && models[0]) {
    h.gpu = models[0] as string;
    h.source = "inventory";
    h.platform = /AMD|Radeon|Instinct/i.test(String(attrs["vllm.startup.gpu.vendor"] ?? "") + h.gpu) ? "rocm" : "cuda";
  } else if (count === 0) h.platform = "cpu";
  if (typeof count === "number" && count > 0) h.gpu_count = count;
  if (Array.isArray(mem) && typeof mem[0] === "number") h.gpu_memory_gib = Math.round(((mem[0] as number) / 2 ** 30) * 100) / 100;
  const cpu = attrs["host.cpu.model.name"];
  if (typeof cpu === "string") h.cpu_model = cpu;
  const cores = attrs["vllm.startup.host.cpu.logical_count"];
  if (typeof cores === "number") h.cpu_cores = cores;
  if (gpuOption) applyOption(h, gpuOption);
  return h;
}

function applyOption(h: Hardware, gpuOption: string): void {
  try {
    const o = parseGpuOption(gpuOption);
    h.gpu = o.gpu;
    h.gpu_count = o.count;
    h.source = "option";
    if (/^cpu$/i.test(o.gpu)) { h.platform = "cpu"; h.gpu = null; }
    else if (/AMD|Radeon|Instinct|MI\d|gfx/i.test(o.gpu)) h.platform = "rocm";
    else if (!h.platform || h.platform === "cpu") h.platform = "cuda";
  } catch { /* the option was validated where it was parsed */ }
}

/**
 * The hardware class (hardware-priors.json "classes", first match wins).
 * "unknown-gpu" when a GPU platform is known but nothing names or bounds the GPU.
 */
export function hardwareClass(h: Hardware): string {
  for (const c of CLASSES) {
    if (c.platforms && !(h.platform && c.platforms.includes(h.platform))) continue;
    if (c.names) {
      if (!h.gpu || !new RegExp(c.names, "i").test(h.gpu)) continue;
    }
    if (c.max_memory_gib !== undefined && !(h.gpu_memory_gib !== null && h.gpu_memory_gib <= c.max_memory_gib)) continue;
    if (c.min_memory_gib !== undefined && !(h.gpu_memory_gib !== null && h.gpu_memory_gib >= c.min_memory_gib)) continue;
    if (c.max_compute_capability !== undefined && !(h.compute_capability !== null && Number(h.compute_capability) <= c.max_compute_capability)) continue;
    if (!c.names && !c.platforms && c.max_memory_gib === undefined && c.min_memory_gib === undefined && c.max_compute_capability === undefined) return c.id;
    return c.id;
  }
  return "unknown-gpu";
}

export function describeHardware(h: Hardware): string {
  const gpu = h.platform === "cpu" ? "CPU only" : h.gpu ? `${h.gpu}${h.gpu_count > 1 ? ` x${h.gpu_count}` : ""}` : `unknown ${h.platform ?? ""} GPU`.replace("  ", " ");
  return `${gpu}${h.gpu_memory_gib ? `, ${h.gpu_memory_gib} GiB` : ""} (${hardwareClass(h)}, from ${h.source})`;
}
