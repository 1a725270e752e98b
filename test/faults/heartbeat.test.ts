// The main thread's one timer (src/process/heartbeat.ts): beat periods for
// sampling intervals, subscribers every N beats, a throwing subscriber costs
// only itself, and unsubscribing the last one stops the timer.
import { expect, test } from "bun:test";
import { beatPeriodMs, Heartbeat, MAX_BEAT_MS } from "../../src/process/heartbeat.ts";

test("beat period: the sampling interval up to MAX_BEAT_MS, else a whole fraction of it", () => {
  expect(beatPeriodMs(100)).toBe(100);
  expect(beatPeriodMs(50)).toBe(50);
  expect(beatPeriodMs(250)).toBe(250);
  expect(beatPeriodMs(1000)).toBe(250);
  expect(beatPeriodMs(333)).toBeCloseTo(166.5, 5);
  expect(beatPeriodMs(0)).toBe(100); // sampling off: the parser still gets its pulls
  expect(beatPeriodMs(Number.NaN)).toBe(100);
  expect(beatPeriodMs(1)).toBe(10);
  for (const ms of [260, 999, 5000, 60000]) {
    const p = beatPeriodMs(ms);
    expect(p).toBeLessThanOrEqual(MAX_BEAT_MS);
    expect(Number.isInteger(Math.round((ms / p) * 1e9) / 1e9)).toBe(true);
  }
});

test("subscribers run every N beats; a throwing one does not stop the others; the last unsubscribe stops the timer", async () => {
  const beat = new Heartbeat(20);
  let every = 0, third = 0, bad = 0;
  const offEvery = beat.add(() => every++);
  const offThird = beat.add(() => third++, 60);
  const offBad = beat.add(() => {
    bad++;
    throw new Error("subscriber fault");
  });
  await Bun.sleep(400);
  expect(every).toBeGreaterThanOrEqual(8);
  expect(bad).toBe(every);
  expect(third).toBeGreaterThanOrEqual(Math.floor(every / 3) - 1);
  expect(third).toBeLessThanOrEqual(Math.ceil(every / 3));
  offEvery();
  offThird();
  offBad();
  const frozen = every + third + bad;
  await Bun.sleep(100);
  expect(every + third + bad).toBe(frozen);
  expect((beat as unknown as { timer: unknown }).timer).toBeNull();
});
