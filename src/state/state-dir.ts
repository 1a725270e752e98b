// Where the tracer keeps local traces, the spool and the history.
import { homedir } from "node:os";
import { join } from "node:path";

export function defaultStateDir(env: Record<string, string | undefined> = process.env): string {
  if (env.STARTUP_TRACER_STATE_DIR) return env.STARTUP_TRACER_STATE_DIR;
  if (env.XDG_STATE_HOME) return join(env.XDG_STATE_HOME, "startup-tracer");
  return join(env.HOME || homedir() || "/tmp", ".local", "state", "startup-tracer");
}
