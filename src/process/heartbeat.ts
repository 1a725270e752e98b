// One timer for the main thread's periodic work: taking the copier threads'
// output for the parser, host sampling, and the end-of-start-up check. Each
// wake-up of Bun's event loop costs some 100-200 us of CPU on a busy VM (an
// empty 100 ms setInterval measured ~45 ms per 200 ticks, with the allocator's
// scavenger thread woken each time), so work that can share a wake-up does.
// Subscribers run every N beats; a subscriber that throws costs itself only.

interface Sub {
  fn: () => void;
  every: number;
  n: number;
}

/** Longest beat: the parser's lag behind the child's output is at most this (or a ring half full). */
export const MAX_BEAT_MS = 250;

/**
 * The beat for a sampling interval: the interval itself up to MAX_BEAT_MS;
 * beyond, the largest whole fraction of it that is at most MAX_BEAT_MS (the
 * sampler then runs every few beats, exactly at its interval).
 */
export function beatPeriodMs(sampleIntervalMs: number): number {
  if (!(sampleIntervalMs > 0) || !Number.isFinite(sampleIntervalMs)) return 100;
  const ms = Math.max(10, sampleIntervalMs);
  return ms <= MAX_BEAT_MS ? ms : ms / Math.ceil(ms / MAX_BEAT_MS);
}

export class Heartbeat {
  private readonly subs: Sub[] = [];
  private timer: ReturnType<typeof setInterval> | null = null;

  constructor(readonly periodMs: number) {}

  /** Runs fn about every `everyMs` (a whole number of beats, at least one); returns the unsubscribe. */
  add(fn: () => void, everyMs = this.periodMs): () => void {
    const sub: Sub = { fn, every: Math.max(1, Math.round(everyMs / this.periodMs)), n: 0 };
    this.subs.push(sub);
    if (!this.timer) {
      this.timer = setInterval(() => this.beat(), this.periodMs);
      (this.timer as { unref?: () => void }).unref?.();
    }
    return () => {
      const i = this.subs.indexOf(sub);
      if (i >= 0) this.subs.splice(i, 1);
      if (this.subs.length === 0) this.stop();
    };
  }

  private beat(): void {
    for (const s of this.subs.slice()) {
      if (++s.n < s.every) continue;
      s.n = 0;
      try {
        s.fn();
      } catch { /* a subscriber's fault is its own */ }
    }
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
