// Host inventory, once at start, as OpenTelemetry resource attributes.
// CPU, memory and OS come from /proc and /etc/os-release; systeminformation is
// imported lazily only for the lspci fallback where no nvidia-smi exists; GPUs are queried with one asynchronous nvidia-smi call
// (systeminformation's graphics() runs nvidia-smi with a blocking
// execFileSync and only when lspci exists). Every source is optional and
// individually time-bounded; hostInventory() never throws.

import { hostname, arch as osArch, release } from "node:os";
import type { Attributes } from "../state/types.ts";
import { readProcText } from "./read-proc.ts";
import { resolveTool } from "./nvidia-smi.ts";
import { numOrNaN } from "./gpu-types.ts";

const MiB = 1024 * 1024;

/** OTel host.arch values. */
function otelArch(a: string): string {
  return ({ x64: "amd64", arm64: "arm64", arm: "arm32", ia32: "x86", ppc64: "ppc64", s390x: "s390x" } as Record<string, string>)[a] ?? a;
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T | null> {
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve(null), ms);
    (t as { unref?: () => void }).unref?.();
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      () => {
        clearTimeout(t);
        resolve(null);
      },
    );
  });
}

/** Container id from /proc/self/cgroup (docker, containerd, cri-o, podman) or /proc/self/mountinfo. */
export function containerIdFrom(cgroup: string | null, mountinfo: string | null): string | null {
  const hex64 = /([0-9a-f]{64})/;
  for (const line of (cgroup ?? "").split("\n")) {
    const path = line.split(":").slice(2).join(":");
    const m = /(?:docker|cri-containerd|crio|libpod|containerd)[-/:]([0-9a-f]{64})/.exec(path) ?? hex64.exec(path);
    if (m) return m[1];
  }
  for (const line of (mountinfo ?? "").split("\n")) {
    if (!/\/(hostname|resolv\.conf|hosts)\s/.test(line)) continue;
    const m = /\/(?:containers|sandboxes)\/([0-9a-f]{64})\//.exec(line);
    if (m) return m[1];
  }
  return null;
}

/** Kubernetes identity from downward-API environment variables (names as commonly wired). */
export function k8sFromEnv(env: Record<string, string | undefined>): Attributes {
  const out: Attributes = {};
  const pick = (...names: string[]) => {
    for (const n of names) if (env[n]) return env[n] as string;
    return undefined;
  };
  const inK8s = !!env.KUBERNETES_SERVICE_HOST;
  const pod = pick("K8S_POD_NAME", "POD_NAME", "KUBERNETES_POD_NAME", "MY_POD_NAME") ?? (inK8s ? env.HOSTNAME : undefined);
  const ns =
    pick("K8S_NAMESPACE_NAME", "K8S_POD_NAMESPACE", "POD_NAMESPACE", "KUBERNETES_NAMESPACE", "MY_POD_NAMESPACE") ??
    (inK8s ? readProcText("/var/run/secrets/kubernetes.io/serviceaccount/namespace")?.trim() || undefined : undefined);
  const node = pick("K8S_NODE_NAME", "NODE_NAME", "KUBERNETES_NODE_NAME", "MY_NODE_NAME");
  const uid = pick("K8S_POD_UID", "POD_UID", "MY_POD_UID");
  const container = pick("K8S_CONTAINER_NAME", "CONTAINER_NAME");
  if (pod) out["k8s.pod.name"] = pod;
  if (ns) out["k8s.namespace.name"] = ns;
  if (node) out["k8s.node.name"] = node;
  if (uid) out["k8s.pod.uid"] = uid;
  if (container) out["k8s.container.name"] = container;
  return out;
}

/** Parses `nvidia-smi --query-gpu=index,name,driver_version,memory.total,uuid --format=csv,noheader,nounits`. */
export function parseNvidiaInventory(text: string): Attributes {
  const names: string[] = [], uuids: string[] = [], mem: number[] = [];
  let driver = "";
  for (const line of text.split("\n")) {
    const f = line.split(",").map((s) => s.trim());
    if (f.length !== 5 || !/^\d+$/.test(f[0])) continue;
    names.push(f[1]);
    driver ||= f[2];
    const m = numOrNaN(f[3]);
    mem.push(Number.isFinite(m) ? m * MiB : -1);
    uuids.push(f[4]);
  }
  if (names.length === 0) return {};
  return {
    "vllm.startup.gpu.count": names.length,
    "vllm.startup.gpu.vendor": "NVIDIA",
    "vllm.startup.gpu.models": names,
    "vllm.startup.gpu.uuids": uuids,
    "vllm.startup.gpu.memory.limit": mem,
    ...(driver && !driver.startsWith("[") ? { "vllm.startup.gpu.driver_version": driver } : {}),
  };
}

async function nvidiaInventory(timeoutMs: number): Promise<Attributes | string> {
  const exe = resolveTool("nvidia-smi");
  if (!exe) return "nvidia-smi not found on PATH";
  let proc: ReturnType<typeof Bun.spawn> | null = null;
  try {
    proc = Bun.spawn([exe, "--query-gpu=index,name,driver_version,memory.total,uuid", "--format=csv,noheader,nounits"], {
      stdin: "ignore",
        env: { ...process.env },
      stdout: "pipe",
      stderr: "ignore",
    });
    proc.unref();
    const p = proc;
    const r = await withTimeout(
      (async () => ({ text: await new Response(p.stdout as ReadableStream).text(), code: await p.exited }))(),
      timeoutMs,
    );
    if (!r) {
      p.kill("SIGKILL");
      return `nvidia-smi did not answer within ${timeoutMs} ms`;
    }
    const attrs = parseNvidiaInventory(r.text);
    if (Object.keys(attrs).length === 0) return `nvidia-smi exited ${r.code}: ${r.text.trim().split("\n")[0]?.slice(0, 200) ?? ""}`;
    return attrs;
  } catch (e) {
    try {
      proc?.kill("SIGKILL");
    } catch {
      /* gone */
    }
    return `nvidia-smi failed: ${(e as Error)?.message ?? e}`;
  }
}

/** CPU, memory and OS from /proc/cpuinfo, /proc/meminfo and /etc/os-release (no processes spawned). */
export function procInventory(cpuinfo: string | null, meminfo: string | null, osRelease: string | null): Attributes {
  const out: Attributes = {};
  if (cpuinfo) {
    let logical = 0;
    const first = new Map<string, string>();
    const sockets = new Set<string>();
    const cores = new Set<string>();
    let phys = "0";
    for (const line of cpuinfo.split("\n")) {
      const c = line.indexOf(":");
      if (c < 0) continue;
      const k = line.slice(0, c).trim();
      const v = line.slice(c + 1).trim();
      if (k === "processor") logical++;
      else if (k === "physical id") {
        phys = v;
        sockets.add(v);
      } else if (k === "core id") cores.add(`${phys}/${v}`);
      if (!first.has(k)) first.set(k, v);
    }
    const model = first.get("model name") ?? first.get("Hardware") ?? first.get("cpu model") ?? first.get("cpu");
    if (model) out["host.cpu.model.name"] = model.replace(/\s+/g, " ");
    const vendor = first.get("vendor_id") ?? first.get("CPU implementer");
    if (vendor) out["host.cpu.vendor.id"] = vendor;
    const family = first.get("cpu family") ?? first.get("CPU architecture");
    if (family) out["host.cpu.family"] = family;
    const modelId = first.get("model") ?? first.get("CPU part");
    if (modelId) out["host.cpu.model.id"] = modelId;
    const stepping = first.get("stepping") ?? first.get("CPU revision");
    if (stepping) out["host.cpu.stepping"] = stepping;
    if (logical > 0) out["vllm.startup.host.cpu.logical_count"] = logical;
    if (cores.size > 0) out["vllm.startup.host.cpu.physical_count"] = cores.size;
    out["vllm.startup.host.cpu.sockets"] = Math.max(1, sockets.size);
  }
  const mem = meminfo ? /^MemTotal:\s+(\d+)\s*kB/m.exec(meminfo) : null;
  if (mem) out["vllm.startup.host.memory.total"] = Number(mem[1]) * 1024;
  if (osRelease) {
    const f: Record<string, string> = {};
    for (const line of osRelease.split("\n")) {
      const m = /^([A-Z_]+)=(.*)$/.exec(line.trim());
      if (m) f[m[1]] = m[2].replace(/^(["'])(.*)\1$/, "$2");
    }
    if (f.NAME) {
      out["os.name"] = f.NAME;
      out["os.description"] = f.PRETTY_NAME || [f.NAME, f.VERSION_ID, f.VERSION_CODENAME ? `(${f.VERSION_CODENAME})` : ""].filter(Boolean).join(" ");
    }
  }
  return out;
}

// Read directly rather than through systeminformation, whose cpu()/mem()/osInfo()
// spawn several processes and cost some 30 ms of CPU at every start (bench/cpu-overhead.ts).
async function siInventory(): Promise<Attributes> {
  return procInventory(readProcText("/proc/cpuinfo"), readProcText("/proc/meminfo"),
    readProcText("/etc/os-release") ?? readProcText("/usr/lib/os-release"));
}

async function siGraphics(): Promise<Attributes> {
  const si = (await import("systeminformation")) as unknown as { graphics(): Promise<any> };
  const g = await si.graphics();
  const ctrls = (g?.controllers ?? []).filter((c: any) => c && (c.vendor || c.model));
  if (ctrls.length === 0) return {};
  return {
    "vllm.startup.gpu.count": ctrls.length,
    "vllm.startup.gpu.vendor": String(ctrls[0].vendor ?? ""),
    "vllm.startup.gpu.models": ctrls.map((c: any) => String(c.model ?? "")),
    ...(ctrls[0].driverVersion ? { "vllm.startup.gpu.driver_version": String(ctrls[0].driverVersion) } : {}),
  };
}

export interface InventoryOptions {
  timeoutMs?: number;
}

/** Resource attributes for the host; never throws, returns within about `timeoutMs` (default 3000). */
export async function hostInventory(opts: InventoryOptions = {}): Promise<Attributes> {
  const timeoutMs = opts.timeoutMs ?? 3000;
  const out: Attributes = {};
  try {
    out["host.name"] = hostname();
    out["host.arch"] = otelArch(osArch());
    out["os.type"] = process.platform;
    out["os.version"] = release();
    out["vllm.startup.host.kernel"] = release();
    const cid = containerIdFrom(readProcText("/proc/self/cgroup"), readProcText("/proc/self/mountinfo"));
    if (cid) out["container.id"] = cid;
    Object.assign(out, k8sFromEnv(process.env));
  } catch {
    /* keep what we have */
  }
  const [si, nv] = await Promise.all([
    withTimeout(siInventory(), timeoutMs),
    withTimeout(nvidiaInventory(timeoutMs), timeoutMs + 200),
  ]);
  if (si) Object.assign(out, si);
  else out["vllm.startup.host.inventory.incomplete"] = `host inventory did not complete within ${timeoutMs} ms`;
  if (nv && typeof nv === "object") Object.assign(out, nv);
  else {
    const g = resolveTool("lspci") ? await withTimeout(siGraphics(), timeoutMs) : null;
    if (g && Object.keys(g).length > 0) Object.assign(out, g);
    else out["vllm.startup.gpu.count"] = 0;
    if (typeof nv === "string" && !(g && Object.keys(g).length > 0)) out["vllm.startup.gpu.unavailable"] = nv;
  }
  return out;
}
