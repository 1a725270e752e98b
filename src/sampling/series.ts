// Compact per-core utilisation series for the whole start-up (root span), for
// a per-core heat map. Bounded: at most `maxPoints` time buckets are kept;
// when more would be needed, neighbouring buckets are merged pairwise and the
// bucket width doubles, so memory is O(maxPoints x cores) however long the
// start-up lasts. Rendering additionally caps the string at MAX_SERIES_CHARS.
//
// Encoding "b64u6": one character per core per bucket from the base64url
// alphabet A-Z a-z 0-9 - _, value = index / 63 (0 = idle, "_" = 100 %), "."
// where a bucket has no samples; buckets are separated by ",", cores appear in
// CPU-number order. Bucket k covers [start_ms + k*step_ms, start_ms + (k+1)*step_ms).

export const SERIES_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
export const MAX_SERIES_CHARS = 32768;

export interface RenderedSeries {
  series: string;
  startMs: number;
  stepMs: number;
  points: number;
}

export class CoreSeries {
  private start = NaN;
  private step: number;
  private sums: Float64Array[] = [];
  private weights: number[] = [];

  constructor(
    private readonly cores: number,
    private readonly maxPoints: number,
    baseStepMs: number,
  ) {
    this.step = Math.max(1, baseStepMs);
  }

  /** Adds one sample: utilisation per core (0..1) over (t - dtMs, t]. */
  add(t: number, dtMs: number, util: ArrayLike<number>): void {
    if (!(dtMs > 0)) return;
    const mid = t - dtMs / 2;
    if (Number.isNaN(this.start)) this.start = t - dtMs;
    let k = Math.floor((mid - this.start) / this.step);
    if (k < 0) k = 0;
    while (k >= this.maxPoints) {
      this.halve();
      k = Math.floor((mid - this.start) / this.step);
    }
    while (this.sums.length <= k) {
      this.sums.push(new Float64Array(this.cores));
      this.weights.push(0);
    }
    const s = this.sums[k];
    for (let c = 0; c < this.cores; c++) s[c] += (util[c] ?? 0) * dtMs;
    this.weights[k] += dtMs;
  }

  private halve(): void {
    const sums: Float64Array[] = [];
    const weights: number[] = [];
    for (let i = 0; i < this.sums.length; i += 2) {
      const a = this.sums[i];
      const b = this.sums[i + 1];
      const s = new Float64Array(this.cores);
      for (let c = 0; c < this.cores; c++) s[c] = a[c] + (b ? b[c] : 0);
      sums.push(s);
      weights.push(this.weights[i] + (this.weights[i + 1] ?? 0));
    }
    this.sums = sums;
    this.weights = weights;
    this.step *= 2;
  }

  render(startMs: number, endMs: number): RenderedSeries | null {
    if (Number.isNaN(this.start) || this.sums.length === 0) return null;
    let first = Math.max(0, Math.floor((startMs - this.start) / this.step));
    let last = Math.min(this.sums.length - 1, Math.floor((endMs - this.start) / this.step));
    if (!Number.isFinite(first)) first = 0;
    if (!Number.isFinite(last)) last = this.sums.length - 1;
    if (last < first) return null;
    let sums = this.sums.slice(first, last + 1);
    let weights = this.weights.slice(first, last + 1);
    let step = this.step;
    const origin = this.start + first * this.step;
    while (sums.length > 1 && sums.length * (this.cores + 1) > MAX_SERIES_CHARS) {
      const s2: Float64Array[] = [];
      const w2: number[] = [];
      for (let i = 0; i < sums.length; i += 2) {
        const s = new Float64Array(this.cores);
        for (let c = 0; c < this.cores; c++) s[c] = sums[i][c] + (sums[i + 1]?.[c] ?? 0);
        s2.push(s);
        w2.push(weights[i] + (weights[i + 1] ?? 0));
      }
      sums = s2;
      weights = w2;
      step *= 2;
    }
    const rows: string[] = [];
    for (let i = 0; i < sums.length; i++) {
      let row = "";
      const w = weights[i];
      for (let c = 0; c < this.cores; c++) {
        if (!(w > 0)) row += ".";
        else {
          const v = Math.min(1, Math.max(0, sums[i][c] / w));
          row += SERIES_ALPHABET[Math.round(v * 63)];
        }
      }
      rows.push(row);
    }
    return { series: rows.join(","), startMs: origin, stepMs: step, points: rows.length };
  }
}

/** Decodes a rendered series back into rows of per-core utilisation (NaN = no data). */
export function decodeSeries(series: string): number[][] {
  if (series === "") return [];
  return series.split(",").map((row) => [...row].map((ch) => (ch === "." ? NaN : SERIES_ALPHABET.indexOf(ch) / 63)));
}
