import { join } from "node:path";

export const FIXTURES = join(import.meta.dir, "fixtures");
export const NVSMI_DIR = join(import.meta.dir, "..", "fixtures", "nvidia-smi");
export const BUN = process.execPath;

export interface ChildRun {
  proc: ReturnType<typeof Bun.spawn>;
  lines: string[];
  done: Promise<void>;
  /** Resolves with the line once a line starting with `prefix` has been printed. */
  waitFor(prefix: string, timeoutMs?: number): Promise<string>;
}

export function runChild(cmd: string[]): ChildRun {
  const proc = Bun.spawn(cmd, { stdout: "pipe", stderr: "inherit" });
  const lines: string[] = [];
  const waiters: { prefix: string; resolve: (l: string) => void }[] = [];
  const done = (async () => {
    const dec = new TextDecoder();
    let buf = "";
    const reader = (proc.stdout as ReadableStream<Uint8Array>).getReader();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buf += dec.decode(value, { stream: true });
      let nl: number;
      while ((nl = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        lines.push(line);
        for (const w of waiters.splice(0)) {
          if (line.startsWith(w.prefix)) w.resolve(line);
          else waiters.push(w);
        }
      }
    }
    await proc.exited;
  })();
  return {
    proc,
    lines,
    done,
    waitFor(prefix, timeoutMs = 20000) {
      const hit = lines.find((l) => l.startsWith(prefix));
      if (hit) return Promise.resolve(hit);
      return new Promise((resolve, reject) => {
        waiters.push({ prefix, resolve });
        setTimeout(() => reject(new Error(`timed out waiting for ${prefix}`)), timeoutMs).unref();
      });
    },
  };
}

/** "MARK name ms" lines → name → ms. */
export function marks(lines: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const l of lines) {
    const m = /^MARK (\S+) ([\d.]+)/.exec(l);
    if (m) out[m[1]] = Number(m[2]);
  }
  return out;
}

export function alive(pid: number): boolean {
  try {
    const s = require("node:fs").readFileSync(`/proc/${pid}/stat`, "latin1") as string;
    return !/\) Z /.test(s);
  } catch {
    return false;
  }
}
