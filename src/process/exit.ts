// Exits with the given status once our own stdout/stderr have taken what was
// written to them (bounded: a stuck reader must not keep the tracer alive).
export async function exitAfterDrain(code: number, maxWaitMs = 1000): Promise<never> {
  const waits: Promise<void>[] = [];
  for (const s of [process.stdout, process.stderr]) {
    if ((s as unknown as { writableNeedDrain?: boolean }).writableNeedDrain) {
      waits.push(new Promise<void>((resolve) => {
        s.once("drain", () => resolve());
        s.once("error", () => resolve());
      }));
    }
  }
  if (waits.length) await Promise.race([Promise.all(waits), Bun.sleep(maxWaitMs)]);
  process.exit(code);
}
