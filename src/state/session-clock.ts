// The clock of the start-up being traced. Normally the wall clock (epoch ms at
// high resolution). A replay sped up N times (`startup-tracer demo`) is traced
// with its elapsed time multiplied by N (`--time-scale N`), so that what the
// tracer measures live and the durations vLLM printed in the recorded log are
// on one timeline, and so are the predictions and the slow-phase deadlines.

let scale = 1;
let base = 0;
/** With a time scale: the wall instant of the child's first output, from which time runs faster. */
let anchor = Infinity;

/** Epoch milliseconds, at high resolution, on the real clock. */
export function wallMs(): number {
  return performance.timeOrigin + performance.now();
}

/**
 * Time since the child's first output runs `factor` times faster; before it
 * (the replaying process's own start, tens of milliseconds) it counts once, so
 * the recorded timeline starts where the recording does. `baseMs` is the
 * child's start, used until the first output arrives.
 */
export function setTimeScale(factor: number, baseMs: number): void {
  scale = factor > 0 && Number.isFinite(factor) ? factor : 1;
  base = baseMs;
  anchor = Infinity;
}

/** The child's first output arrived at `wallMs` (wall clock): the scaled timeline starts there. */
export function anchorTimeline(wallMs: number): void {
  if (scale !== 1 && anchor === Infinity) anchor = Math.max(base, wallMs);
}

export function timeScale(): number {
  return scale;
}

/** A wall-clock instant on the session's timeline. */
export function onTimeline(tWallMs: number): number {
  if (scale === 1) return tWallMs;
  const from = anchor === Infinity ? base : anchor;
  return tWallMs <= from ? tWallMs : from + (tWallMs - from) * scale;
}

/** Now, on the session's timeline. */
export function sessionNowMs(): number {
  return onTimeline(wallMs());
}

/** How long to wait in real time for `ms` to pass on the session's timeline. */
export function realDelayMs(ms: number): number {
  return ms / scale;
}
