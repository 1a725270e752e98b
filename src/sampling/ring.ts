// Fixed-capacity ring buffers of numeric samples (struct of typed arrays), so
// memory stays bounded however long a start-up lasts and each tick allocates
// nothing. When full, the oldest samples are overwritten. The arrays grow (doubling)
// up to the capacity as samples arrive, so a short start-up never allocates and
// zeroes an hour's worth (several MB, some 10 ms of CPU at start).

import { keepBelowFTL } from "../process/jit-budget.ts";

export class FieldRing<F extends string> {
  readonly capacity: number;
  private readonly cols: Record<F, Float64Array>;
  private allocated: number;
  private head = 0; // next write slot
  private count = 0;
  /** Optional fixed-width byte row per sample (per-core utilisation). */
  readonly rowWidth: number;
  private rows: Uint8Array | null;

  constructor(fields: readonly F[], capacity: number, rowWidth = 0) {
    this.capacity = Math.max(2, Math.floor(capacity));
    this.allocated = Math.min(this.capacity, 512);
    this.cols = {} as Record<F, Float64Array>;
    for (const f of fields) this.cols[f] = new Float64Array(this.allocated);
    this.rowWidth = rowWidth;
    this.rows = rowWidth > 0 ? new Uint8Array(this.allocated * rowWidth) : null;
  }

  /** Before the first wrap-around head === count, so growing keeps every slot where it is. */
  private grow(): void {
    const n = Math.min(this.capacity, this.allocated * 2);
    for (const f in this.cols) {
      const a = new Float64Array(n);
      a.set(this.cols[f]);
      this.cols[f] = a;
    }
    if (this.rows) {
      const r = new Uint8Array(n * this.rowWidth);
      r.set(this.rows);
      this.rows = r;
    }
    this.allocated = n;
  }

  get size(): number {
    return this.count;
  }

  /** Physical slot of logical index i (0 = oldest). */
  private slot(i: number): number {
    return (this.head - this.count + i + this.capacity) % this.capacity;
  }

  push(values: Record<F, number>, row?: ArrayLike<number>): void {
    const s = this.head;
    if (s >= this.allocated) this.grow();
    for (const f in this.cols) this.cols[f][s] = values[f];
    if (this.rows && row) {
      const off = s * this.rowWidth;
      for (let i = 0; i < this.rowWidth; i++) this.rows[off + i] = row[i] ?? 0;
    }
    this.head = (this.head + 1) % this.capacity;
    if (this.count < this.capacity) this.count++;
  }

  get(field: F, i: number): number {
    return this.cols[field][this.slot(i)];
  }

  /** Byte row of logical index i (a view; copy it if kept). */
  row(i: number): Uint8Array {
    if (!this.rows) return new Uint8Array(0);
    const off = this.slot(i) * this.rowWidth;
    return this.rows.subarray(off, off + this.rowWidth);
  }

  /** Index of the first sample with `t` >= x (size when none), by binary search on a monotonic field. */
  lowerBound(field: F, x: number): number {
    let lo = 0, hi = this.count;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.get(field, mid) < x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

keepBelowFTL(FieldRing.prototype.get, FieldRing.prototype.lowerBound, FieldRing.prototype.push);
