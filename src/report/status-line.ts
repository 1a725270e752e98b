// The one-line live status on a terminal (stderr only): current phase, elapsed,
// ETA. It is cleared before any child output is passed through and redrawn
// only after a quiet moment, so it never lands in the middle of a child line.
import type { StartupSnapshot } from "../state/types.ts";
import { writeStderr } from "./messages.ts";

export class StatusLine {
  private shown = false;
  private lastOutput = 0;
  private timer: ReturnType<typeof setInterval>;

  constructor(private snapshot: () => StartupSnapshot, private color: boolean) {
    this.timer = setInterval(() => this.draw(), 500);
    this.timer.unref?.();
  }

  clear(): void {
    this.lastOutput = Date.now();
    if (!this.shown) return;
    this.shown = false;
    writeStderr("\r\x1b[2K");
  }

  private draw(): void {
    if (Date.now() - this.lastOutput < 400) return;
    let s: StartupSnapshot;
    try {
      s = this.snapshot();
    } catch {
      return;
    }
    if (s.outcome !== "running") return this.stop();
    const eta = s.eta_s !== null ? `  ETA ${Math.max(0, s.eta_s).toFixed(0)} s` : "";
    const phase = s.current_phase ?? "starting";
    const text = `⏱ ${phase} ${s.current_phase_elapsed_s?.toFixed(1) ?? "0.0"} s · elapsed ${s.elapsed_s.toFixed(1)} s${eta}`;
    writeStderr(`\r\x1b[2K${this.color ? `\x1b[36m${text}\x1b[0m` : text}`);
    this.shown = true;
  }

  stop(): void {
    clearInterval(this.timer);
    this.clear();
  }
}
