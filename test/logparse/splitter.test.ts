// Line splitter: \n, \r\n and tqdm's bare \r, UTF-8 split across chunks, a 64 MiB
// line without newline in bounded memory, NUL bytes.
import { describe, expect, test } from "bun:test";
import { LineSplitter, MAX_LINE_CHARS } from "../../src/logparse/line-splitter.ts";
import { importLogText } from "../../src/logparse/import-log.ts";

function split(chunks: (string | Uint8Array)[], max?: number): string[] {
  const out: string[] = [];
  const s = new LineSplitter((l) => out.push(l), max);
  for (const c of chunks) typeof c === "string" ? s.pushText(c) : s.push(c);
  s.end();
  return out;
}

describe("LineSplitter", () => {
  test("\\n, \\r\\n, bare \\r (tqdm redraws); empty lines dropped", () => {
    expect(split(["a\nb\r\nc\rd\n\n\ne"])).toEqual(["a", "b", "c", "d", "e"]);
  });
  test("tqdm states on one physical line become separate lines, the glued record stays whole", () => {
    const raw = "Loading:  0%| 0/4 [00:00<?, ?it/s]\rLoading: 100%| 4/4 [00:02<00:00]INFO 01-23 15:49:07 [default_loader.py:267] Loading weights took 19.62 seconds\n";
    expect(split([raw])).toEqual(["Loading:  0%| 0/4 [00:00<?, ?it/s]", "Loading: 100%| 4/4 [00:02<00:00]INFO 01-23 15:49:07 [default_loader.py:267] Loading weights took 19.62 seconds"]);
  });
  test("a line split across pushes is joined", () => {
    expect(split(["INFO 01-23 15:4", "9:07 [x.py:1] ok\nnext"])).toEqual(["INFO 01-23 15:49:07 [x.py:1] ok", "next"]);
  });
  test("UTF-8 split inside a character (block chars, CJK, emoji)", () => {
    const text = "█▉ 起動時間 🚀 done\n";
    const bytes = new TextEncoder().encode(text);
    const chunks: Uint8Array[] = [];
    for (let i = 0; i < bytes.length; i++) chunks.push(bytes.subarray(i, i + 1));
    expect(split(chunks)).toEqual(["█▉ 起動時間 🚀 done"]);
  });
  test("invalid UTF-8 becomes U+FFFD, not an exception", () => {
    expect(split([new Uint8Array([0x41, 0xff, 0x42, 0x0a])])).toEqual(["A\uFFFDB"]);
  });
  test("NUL bytes pass through", () => {
    expect(split([new Uint8Array([0x61, 0x00, 0x62, 0x0a, 0x00, 0x0a])])).toEqual(["a\0b", "\0"]);
  });
  test("final line without newline is flushed at end", () => {
    expect(split(["a\nb"])).toEqual(["a", "b"]);
  });
  test("64 MiB line without newline: capped, bounded memory, next line intact", () => {
    const out: string[] = [];
    const s = new LineSplitter((l) => out.push(l));
    const chunk = new Uint8Array(1 << 20).fill(0x78); // 1 MiB of 'x'
    Bun.gc(true);
    const before = process.memoryUsage().rss;
    for (let i = 0; i < 64; i++) s.push(chunk);
    const grown = process.memoryUsage().rss - before;
    s.push(new TextEncoder().encode("\nINFO 01-01 00:00:00 [a.py:1] after\n"));
    s.end();
    expect(out.length).toBe(2);
    expect(out[0].length).toBe(MAX_LINE_CHARS);
    expect(out[1]).toBe("INFO 01-01 00:00:00 [a.py:1] after");
    // Only one chunk at a time is held (plus the capped line), never the 64 MiB.
    expect(grown).toBeLessThan(48 * 1024 * 1024);
  });
  test("a long line delivered in one piece is capped too", () => {
    const out = split(["y".repeat(100_000) + "\nz"], 1000);
    expect(out.map((l) => l.length)).toEqual([1000, 1]);
  });
});

describe("import through the splitter", () => {
  test("a record after a 64 MiB newline-free line is still recognised", () => {
    const big = new Uint8Array(64 << 20).fill(0x2d);
    const tail = new TextEncoder().encode("\nINFO 01-23 15:49:07 [default_loader.py:267] Loading weights took 19.62 seconds\n");
    const all = new Uint8Array(big.length + tail.length);
    all.set(big);
    all.set(tail, big.length);
    const r = importLogText(all);
    expect(r.phases.find((p) => p.name === "load_weights")?.durationS).toBe(19.62);
  });
});
