/**
 * A real Prometheus and a real Alertmanager for the end-to-end tests: Debian's
 * `prometheus` and `prometheus-alertmanager` (installed by
 * scripts/ensure-system-deps.sh), each started on a free loopback port with its
 * own temp data directory and a generated config with 1 s intervals, and
 * stopped by PID (SIGTERM, then SIGKILL after a grace period; a process 'exit'
 * hook SIGKILLs any instance a test forgot to stop).
 */
import { closeSync, openSync, rmSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePorts } from "./jaeger.ts";

export interface ServiceHandle {
  /** http://127.0.0.1:PORT */
  url: string;
  pid: number;
  workDir: string;
  logs(): Promise<string>;
  stop(graceMs?: number): Promise<void>;
}

/** An alert as Alertmanager's API v2 returns it (GET /api/v2/alerts). */
export interface AmAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
  updatedAt: string;
  generatorURL?: string;
  fingerprint: string;
  status: { state: string; silencedBy: string[]; inhibitedBy: string[] };
  receivers: { name: string }[];
}

/** One notification Alertmanager sent to its webhook receiver (payload version 4). */
export interface AmNotification {
  status: "firing" | "resolved";
  alerts: { status: "firing" | "resolved"; labels: Record<string, string>; annotations: Record<string, string>;
    startsAt: string; endsAt: string; generatorURL: string; fingerprint: string }[];
  receivedAt: number;
}

const live = new Map<number, string>();
let hooked = false;
function hookExit(): void {
  if (hooked) return;
  hooked = true;
  process.on("exit", () => {
    for (const [pid, dir] of live) {
      try {
        process.kill(pid, "SIGKILL");
      } catch { /* gone */ }
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

function which(name: string): string {
  const p = Bun.which(name);
  if (!p) throw new Error(`${name} not found on PATH: run scripts/ensure-system-deps.sh (Debian packages prometheus, prometheus-alertmanager)`);
  return p;
}

class PortInUse extends Error {}

/** Spawns `argv` (built from a fresh port) with its log in `workDir`, and waits for `readyPath` to answer 200. */
async function spawnService(name: string, build: (port: number, workDir: string) => Promise<string[]>, readyPath: string,
  startTimeoutMs = 30_000): Promise<ServiceHandle> {
  hookExit();
  for (let attempt = 0; ; attempt++) {
    const [port] = await freePorts(1);
    const workDir = await mkdtemp(join(tmpdir(), `st-${name}-`));
    const argv = await build(port, workDir);
    const logPath = join(workDir, `${name}.log`);
    const fd = openSync(logPath, "a");
    let proc: Bun.Subprocess;
    try {
      proc = Bun.spawn(argv, { cwd: workDir, stdin: "ignore", stdout: fd, stderr: fd });
    } finally {
      closeSync(fd);
    }
    live.set(proc.pid, workDir);
    const url = `http://127.0.0.1:${port}`;
    const logs = () => readFile(logPath, "utf8").catch(() => "");
    let stopped: Promise<void> | undefined;
    const stop = (graceMs = 5000) => stopped ??= (async () => {
      if (proc.exitCode === null && proc.signalCode === null) {
        try {
          process.kill(proc.pid, "SIGTERM");
        } catch { /* gone */ }
        if (!(await Promise.race([proc.exited.then(() => true), Bun.sleep(graceMs).then(() => false)]))) {
          try {
            process.kill(proc.pid, "SIGKILL");
          } catch { /* gone */ }
          await proc.exited;
        }
      }
      live.delete(proc.pid);
      await rm(workDir, { recursive: true, force: true });
    })();
    const deadline = Date.now() + startTimeoutMs;
    let failure: Error | undefined;
    for (;;) {
      if (proc.exitCode !== null || proc.signalCode !== null) {
        const log = await logs();
        failure = /address already in use/i.test(log) ? new PortInUse(log)
          : new Error(`${name} exited during start-up (code ${proc.exitCode}).\n${log.slice(-3000)}`);
        break;
      }
      if (Date.now() > deadline) {
        failure = new Error(`${name} not ready within ${startTimeoutMs} ms.\n${(await logs()).slice(-3000)}`);
        break;
      }
      const ok = await fetch(`${url}${readyPath}`, { signal: AbortSignal.timeout(2000) })
        .then(async (r) => { await r.arrayBuffer(); return r.ok; }).catch(() => false);
      if (ok) return { url, pid: proc.pid, workDir, logs, stop };
      await Bun.sleep(100);
    }
    await stop();
    if (!(failure instanceof PortInUse) || attempt >= 2) throw failure;
  }
}

/**
 * Alertmanager with one route to `webhookUrl` (resolved notifications on),
 * group_wait 0s and group_interval 1s so notifications follow the alerts closely;
 * clustering off (it would listen on 0.0.0.0:9094).
 */
export function startAlertmanager(webhookUrl: string): Promise<ServiceHandle> {
  const bin = which("prometheus-alertmanager");
  return spawnService("alertmanager", async (port, dir) => {
    await writeFile(join(dir, "alertmanager.yml"), `# Written by test/helpers/prom-stack.ts
route:
  receiver: hook
  group_by: [alertname, phase]
  group_wait: 0s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: hook
    webhook_configs:
      - url: ${webhookUrl}
        send_resolved: true
`);
    return [bin, `--config.file=${join(dir, "alertmanager.yml")}`, `--storage.path=${join(dir, "data")}`,
      `--web.listen-address=127.0.0.1:${port}`, "--cluster.listen-address=", "--log.level=info"];
  }, "/-/ready");
}

/**
 * Prometheus scraping `targets` every second, evaluating `rules` (YAML text; the
 * caller sets the groups' interval) every second, and sending alerts to `alertmanagerUrl`.
 */
export function startPrometheus(p: { targets: string[]; rules: string; alertmanagerUrl: string; job?: string }): Promise<ServiceHandle> {
  const bin = which("prometheus");
  return spawnService("prometheus", async (port, dir) => {
    await writeFile(join(dir, "rules.yaml"), p.rules);
    await writeFile(join(dir, "prometheus.yml"), `# Written by test/helpers/prom-stack.ts
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
rule_files: [rules.yaml]
alerting:
  alertmanagers:
    - static_configs:
        - targets: ["${new URL(p.alertmanagerUrl).host}"]
scrape_configs:
  - job_name: ${p.job ?? "startup-tracer"}
    static_configs:
      - targets: ${JSON.stringify(p.targets)}
`);
    return [bin, `--config.file=${join(dir, "prometheus.yml")}`, `--storage.tsdb.path=${join(dir, "data")}`,
      `--web.listen-address=127.0.0.1:${port}`, "--log.level=info"];
  }, "/-/ready");
}

/** Alertmanager's current alerts (API v2; resolved ones are not listed). */
export async function amAlerts(am: ServiceHandle): Promise<AmAlert[]> {
  const r = await fetch(`${am.url}/api/v2/alerts`, { signal: AbortSignal.timeout(3000) });
  if (!r.ok) throw new Error(`GET /api/v2/alerts: HTTP ${r.status}: ${await r.text()}`);
  return (await r.json()) as AmAlert[];
}

/** Polls `probe` every 200 ms until it returns a value other than undefined; throws with `what` after `timeoutMs`. */
export async function waitFor<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const until = Date.now() + timeoutMs;
  let lastErr = "";
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (e) {
      lastErr = ` (last error: ${(e as Error).message})`;
    }
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastErr}`);
    await Bun.sleep(200);
  }
}
