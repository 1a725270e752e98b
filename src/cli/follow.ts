// `follow <logfile>`: sidecar mode. Follows the log file another container
// writes, with the same phases, spans, API and alerts as wrap mode; samples the
// server's process tree when it can see it (--pid / --process-name with a
// shared process namespace). The API stays up after the start-up ends, so
// /readyz keeps answering until the sidecar is stopped.
import { readdirSync, readFileSync } from "node:fs";
import { followFile } from "../input/file-follower.ts";
import { StartupSession, nowMs } from "../session/startup-session.ts";
import { loadLivePlugins } from "../session/live-plugins.ts";
import { readExportConfig } from "../trace/otel-config.ts";
import { newTraceIds } from "../trace/trace-ids.ts";
import { defaultStateDir } from "../state/state-dir.ts";
import { learnSecrets } from "../redact/redact.ts";
import { reportEnd } from "./report-end.ts";
import type { OptionValues } from "./options.ts";
import { say, warn } from "../report/messages.ts";

/** Finds a process by command name (comm or argv[0] basename), excluding ourselves. */
export function findProcess(name: string): number | null {
  let best: number | null = null;
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d) || +d === process.pid) continue;
    try {
      const comm = readFileSync(`/proc/${d}/comm`, "utf8").trim();
      const argv0 = readFileSync(`/proc/${d}/cmdline`, "utf8").split("\0").slice(0, 2).map((a) => a.split("/").pop());
      if (comm === name || argv0.includes(name)) {
        if (best === null || +d < best) best = +d;
      }
    } catch { /* gone or not ours */ }
  }
  return best;
}

export async function runFollow(file: string, values: OptionValues): Promise<number> {
  learnSecrets(process.env);
  const exportConfig = readExportConfig(process.env, { otlpEndpoint: values["otlp-endpoint"] as string | undefined });
  for (const w of exportConfig.warnings) warn(w);
  const stateDir = (values["state-dir"] as string | undefined) ?? defaultStateDir();
  const ids = newTraceIds(process.env);
  const session = new StartupSession({ ids, mode: "follow", t0: nowMs(), exportConfig, stateDir });
  const split = session.newStream();
  // Follow mode serves the API by default (loopback), for probes.
  const live = await loadLivePlugins(session, { listen: "127.0.0.1:9464", ...values }, {
    pid: (values.pid as number | undefined) ?? null, argv: [], env: process.env, stateDir, mode: "follow",
  });
  const procName = values["process-name"] as string | undefined;
  let pidTimer: ReturnType<typeof setInterval> | null = null;
  if (procName && values.pid === undefined) {
    const tryFind = () => {
      const pid = findProcess(procName);
      if (pid !== null) {
        live.setPid(pid);
        say(`follow: sampling process ${pid} (${procName})`);
        if (pidTimer) clearInterval(pidTimer);
      }
    };
    pidTimer = setInterval(tryFind, 500);
    tryFind();
  }
  const follower = followFile(file, {
    onChunk: (c) => split.push(c),
    fromStart: !values["from-end"],
    onEvent: (e) => { if (e !== "opened") say(`follow: ${file} ${e}`); },
  });
  session.onEnd((f) => { reportEnd(f, values, exportConfig).catch(() => undefined); });
  const watch = setInterval(() => session.pollEnd(), 50);
  await new Promise<void>((resolve) => {
    for (const s of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(s, () => resolve());
  });
  clearInterval(watch);
  if (pidTimer) clearInterval(pidTimer);
  follower.stop();
  const f = await session.finalize("eof");
  await Promise.race([f.delivery, Bun.sleep(3000)]);
  session.cutDelivery();
  await Promise.race([live.stop(), Bun.sleep(1000)]);
  return 0;
}
