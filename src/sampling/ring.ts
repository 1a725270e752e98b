// Fixed-capacity ring buffers of numeric samples (struct of typed arrays), so
// memory stays bounded however long a start-up lasts and each tick allocates
// nothing. When full, the oldest samples are overwritten.

export class FieldRing<F extends string> {
  readonly capacity: number;
  private readonly cols: Record<F, Float64Array>;
  private head = 0; // next write slot
  private count = 0;
  /** Optional fixed-width byte row per sample (per-core utilisation). */
  readonly rowWidth: number;
  private readonly rows: Uint8Array | null;

  constructor(fields: readonly F[], capacity: number, rowWidth = 0) {
    this.capacity = Math.max(2, Math.floor(capacity));
    this.cols = {} as Record<F, Float64Array>;
    for (const f of fields) this.cols[f] = new Float64Array(this.capacity);
    this.rowWidth = rowWidth;
    this.rows = rowWidth > 0 ? new Uint8Array(this.capacity * rowWidth) : null;
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
