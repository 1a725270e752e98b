// Exits with the given status once our own stdout/stderr have taken what was
// written to them (bounded: a stuck reader must not keep the tracer alive).
// Bun's streams report no queue (writableNeedDrain stays false while writes
// wait), but a write's callback comes once everything before it is written:
// an empty write per stream says when that is.
export async function exitAfterDrain(code: number, maxWaitMs = 1000): Promise<never> {
  const waits: Promise<void>[] = [];
  for (const s of [process.stdout, process.stderr]) {
    if ((s as unknown as { destroyed?: boolean }).destroyed) continue;
    waits.push(new Promise<void>((resolve) => {
      s.once("error", () => resolve());
      try {
        s.write("", () => resolve());
      } catch {
        resolve(); // closed
      }
    }));
  }
  await Promise.race([Promise.all(waits), Bun.sleep(maxWaitMs)]);
  process.exit(code);
}
