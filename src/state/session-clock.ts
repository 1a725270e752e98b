// The clock of the start-up being traced. Normally the wall clock (epoch ms at
// high resolution). A replay sped up N times (`startup-tracer demo`) is traced
// with its elapsed time multiplied by N (`--time-scale N`), so that what the
// tracer measures live and the durations vLLM printed in the recorded log are
// on one timeline, and so are the predictions and the slow-phase deadlines.

let scale = 1;
let base = 0;

/** Epoch milliseconds, at high resolution, on the real clock. */
export function wallMs(): number {
  return performance.timeOrigin + performance.now();
}

/** From now on, time since `baseMs` (the child's start) runs `factor` times faster. */
export function setTimeScale(factor: number, baseMs: number): void {
  scale = factor > 0 && Number.isFinite(factor) ? factor : 1;
  base = baseMs;
}

export function timeScale(): number {
  return scale;
}

/** A wall-clock instant on the session's timeline. */
export function onTimeline(tWallMs: number): number {
  return scale === 1 ? tWallMs : base + (tWallMs - base) * scale;
}

/** Now, on the session's timeline. */
export function sessionNowMs(): number {
  return onTimeline(wallMs());
}

/** How long to wait in real time for `ms` to pass on the session's timeline. */
export function realDelayMs(ms: number): number {
  return ms / scale;
}
