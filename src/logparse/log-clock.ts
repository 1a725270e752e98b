// Import mode's clock: vLLM timestamps have no year and (usually) whole
// seconds. Years are inferred (a month that goes backwards means a new year);
// lines without a timestamp inherit the last one seen.
import type { LogLine } from "./anatomy.ts";

export class LogClock {
  private year: number;
  private lastMonth = 0;
  private last: number | null = null;

  constructor(year = new Date().getUTCFullYear()) {
    this.year = year;
  }

  /** Epoch ms for this line, or null before the first timestamped line. */
  time(line: LogLine): number | null {
    if (!line.hasTime || line.month < 1 || line.month > 12 || line.day < 1 || line.day > 31) return this.last;
    if (this.lastMonth && line.month < this.lastMonth) this.year++;
    this.lastMonth = line.month;
    const whole = Math.floor(line.secondOfDay);
    const t = Date.UTC(this.year, line.month - 1, line.day, 0, 0, whole) + (line.secondOfDay - whole) * 1000;
    // Interleaved processes may print slightly out of order; never go back in time.
    if (this.last !== null && t < this.last && this.last - t < 60_000) return this.last;
    this.last = t;
    return t;
  }
}
