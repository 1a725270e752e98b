import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import {
  appendFileSync,
  closeSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  renameSync,
  rmSync,
  truncateSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { followFile, type FollowEvent } from "../../src/input/file-follower.ts";

const POLL = 10;
let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "follower-"));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor(cond: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

/** Starts a follower collecting everything it delivers. */
function collect(path: string, extra: { fromStart?: boolean; bufferSize?: number; maxBytesPerPoll?: number } = {}) {
  const chunks: Uint8Array[] = [];
  const events: FollowEvent[] = [];
  const errors: unknown[] = [];
  const f = followFile(path, {
    pollMs: POLL,
    onChunk: (b) => chunks.push(b),
    onEvent: (e) => events.push(e),
    onError: (e) => errors.push(e),
    ...extra,
  });
  const bytes = () => Buffer.concat(chunks.map((c) => Buffer.from(c)));
  const text = () => bytes().toString("utf8");
  return { f, chunks, events, errors, bytes, text };
}

describe("followFile", () => {
  test("waits for a file created late, then delivers its content", async () => {
    const path = join(dir, "late.log");
    const c = collect(path);
    try {
      await waitFor(() => c.events.includes("waiting"), "waiting event");
      await sleep(5 * POLL);
      expect(c.chunks.length).toBe(0);
      expect(c.events.filter((e) => e === "waiting").length).toBe(1); // once, not every poll
      writeFileSync(path, "INFO first line\n");
      await waitFor(() => c.text() === "INFO first line\n", "first line");
      expect(c.events).toEqual(["waiting", "opened"]);
      appendFileSync(path, "INFO second\n");
      await waitFor(() => c.text() === "INFO first line\nINFO second\n", "second line");
    } finally {
      c.f.stop();
    }
    expect(c.errors).toEqual([]);
  });

  test("waits when the parent directory does not exist yet", async () => {
    const path = join(dir, "sub", "vllm.log");
    const c = collect(path);
    try {
      await waitFor(() => c.events.includes("waiting"), "waiting event");
      mkdirSync(join(dir, "sub"));
      writeFileSync(path, "x");
      await waitFor(() => c.text() === "x", "content");
    } finally {
      c.f.stop();
    }
    expect(c.errors).toEqual([]);
  });

  test("delivers appended pieces, partial lines included, exactly once and in order", async () => {
    const path = join(dir, "pieces.log");
    writeFileSync(path, "");
    const c = collect(path);
    const pieces = ["INFO 05-01 Start", "ing vLLM API server\nINFO ", "Loading weights took 3.21 s", "econds\n", "", "tail-without-newline"];
    let expected = "";
    try {
      await waitFor(() => c.events.includes("opened"), "opened");
      for (const p of pieces) {
        appendFileSync(path, p);
        expected += p;
        await waitFor(() => c.text() === expected, `piece ${JSON.stringify(p)}`);
      }
      await sleep(5 * POLL);
      expect(c.text()).toBe(expected); // nothing re-delivered while idle
    } finally {
      c.f.stop();
    }
  });

  test("fromStart: false skips the existing content of the first file", async () => {
    const path = join(dir, "existing.log");
    writeFileSync(path, "old line 1\nold line 2\n");
    const c = collect(path, { fromStart: false });
    try {
      await waitFor(() => c.events.includes("opened"), "opened");
      await sleep(3 * POLL);
      expect(c.chunks.length).toBe(0);
      appendFileSync(path, "new line\n");
      await waitFor(() => c.text() === "new line\n", "new line");
    } finally {
      c.f.stop();
    }
  });

  test("truncation: re-reads from the start", async () => {
    const path = join(dir, "trunc.log");
    writeFileSync(path, "hello\nworld\n");
    const c = collect(path);
    try {
      await waitFor(() => c.text() === "hello\nworld\n", "initial content");
      truncateSync(path, 0);
      await waitFor(() => c.events.includes("truncated"), "truncated event");
      appendFileSync(path, "after truncation\n");
      await waitFor(() => c.text() === "hello\nworld\nafter truncation\n", "content after truncation");
      // Truncate-and-rewrite shorter between two polls is also seen (size < position).
      writeFileSync(path, "short\n");
      await waitFor(() => c.text().endsWith("after truncation\nshort\n"), "rewritten content");
      expect(c.events.filter((e) => e === "truncated").length).toBe(2);
      expect(c.events).not.toContain("rotated");
    } finally {
      c.f.stop();
    }
  });

  test("rotation by rename + recreate: finishes the old file, then reads the new one", async () => {
    const path = join(dir, "vllm.log");
    const writer = openSync(path, "a");
    const c = collect(path);
    try {
      writeSync(writer, "old-1\n");
      await waitFor(() => c.text() === "old-1\n", "old-1");
      // In one synchronous block (the follower cannot poll in between): rotate, let the old
      // writer append a last line to the renamed file, and create the new file.
      renameSync(path, `${path}.1`);
      writeSync(writer, "old-2 written after the rename\n");
      writeFileSync(path, "new-1\n");
      await waitFor(() => c.text() === "old-1\nold-2 written after the rename\nnew-1\n", "old tail then new file");
      expect(c.events).toEqual(["opened", "rotated", "opened"]);
      // Writes to the old file after the switch are no longer followed; the new file is.
      appendFileSync(path, "new-2\n");
      await waitFor(() => c.text().endsWith("new-1\nnew-2\n"), "new-2");
    } finally {
      closeSync(writer);
      c.f.stop();
    }
  });

  test("rotation with a gap: keeps reading the renamed file until the new one appears", async () => {
    const path = join(dir, "gap.log");
    const writer = openSync(path, "a");
    const c = collect(path);
    try {
      writeSync(writer, "a\n");
      await waitFor(() => c.text() === "a\n", "a");
      renameSync(path, `${path}.1`);
      await sleep(3 * POLL);
      writeSync(writer, "b (old file, path missing)\n");
      await waitFor(() => c.text() === "a\nb (old file, path missing)\n", "b from the renamed file");
      expect(c.events).toEqual(["opened"]);
      writeFileSync(path, "c\n");
      await waitFor(() => c.text() === "a\nb (old file, path missing)\nc\n", "c from the new file");
      expect(c.events).toEqual(["opened", "rotated", "opened"]);
    } finally {
      closeSync(writer);
      c.f.stop();
    }
    expect(c.errors).toEqual([]);
  });

  test("delete + recreate is handled like a rotation", async () => {
    const path = join(dir, "del.log");
    writeFileSync(path, "one\n");
    const c = collect(path);
    try {
      await waitFor(() => c.text() === "one\n", "one");
      unlinkSync(path);
      await sleep(3 * POLL);
      writeFileSync(path, "two\n");
      await waitFor(() => c.text() === "one\ntwo\n", "two");
      expect(c.events).toContain("rotated");
    } finally {
      c.f.stop();
    }
  });

  test("large file: reads in bounded chunks through the reusable buffer, nothing lost", async () => {
    const path = join(dir, "big.log");
    const line = (i: number) => `line ${String(i).padStart(7, "0")} ${"x".repeat(50)}\n`;
    let content = "";
    for (let i = 0; i < 40_000; i++) content += line(i); // ~2.5 MB
    writeFileSync(path, content);
    const c = collect(path, { bufferSize: 4096, maxBytesPerPoll: 256 * 1024 });
    try {
      await waitFor(() => c.bytes().length >= content.length, "whole file", 20_000);
      expect(c.text()).toBe(content);
      expect(Math.max(...c.chunks.map((b) => b.length))).toBeLessThanOrEqual(4096);
      // Chunks are copies, not views of the shared buffer.
      const buffers = new Set(c.chunks.map((b) => b.buffer));
      expect(buffers.size).toBe(c.chunks.length);
    } finally {
      c.f.stop();
    }
  });

  test("stress: random appends, truncations excluded, rotations included — every byte once, in order", async () => {
    const path = join(dir, "stress.log");
    let writer = openSync(path, "a");
    const c = collect(path, { bufferSize: 1024 });
    let expected = "";
    let seed = 12345;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    let seq = 0;
    try {
      for (let round = 0; round < 60; round++) {
        const pieces = 1 + rand(5);
        for (let k = 0; k < pieces; k++) {
          // A sequence of numbered records split at random points (partial lines).
          let s = "";
          const records = 1 + rand(20);
          for (let r = 0; r < records; r++) s += `rec ${seq++} ${"y".repeat(rand(300))}\n`;
          const cut = rand(s.length);
          writeSync(writer, s.slice(0, cut));
          writeSync(writer, s.slice(cut));
          expected += s;
        }
        if (round % 15 === 14) {
          // rename + last write to the old file + recreate, all between two polls
          renameSync(path, `${path}.${round}`);
          const last = `rec ${seq++} last-in-old-file\n`;
          writeSync(writer, last);
          expected += last;
          closeSync(writer);
          writer = openSync(path, "a");
        }
        if (rand(3) === 0) await sleep(rand(3 * POLL));
      }
      await waitFor(() => c.bytes().length >= Buffer.byteLength(expected), "all bytes", 20_000);
      await sleep(3 * POLL);
      expect(c.text()).toBe(expected);
      expect(c.events.filter((e) => e === "rotated").length).toBe(4);
    } finally {
      closeSync(writer);
      c.f.stop();
    }
  });

  test("a separate writer process (shell appends, then truncates with : >)", async () => {
    const path = join(dir, "proc.log");
    const c = collect(path);
    try {
      const script = `for i in 1 2 3 4 5; do printf 'INFO step %s\\n' "$i" >> "$1"; sleep 0.02; done; : > "$1"; sleep 0.2; printf 'INFO restarted\\n' >> "$1"`;
      const proc = Bun.spawn(["sh", "-c", script, "sh", path], { stdout: "ignore", stderr: "inherit" });
      expect(await proc.exited).toBe(0);
      const before = [1, 2, 3, 4, 5].map((i) => `INFO step ${i}\n`).join("");
      await waitFor(() => c.text() === before + "INFO restarted\n", "writer output");
      expect(c.events).toContain("truncated");
    } finally {
      c.f.stop();
    }
  });

  test("stop() and AbortSignal: no delivery afterwards, idempotent", async () => {
    const path = join(dir, "stop.log");
    writeFileSync(path, "a\n");
    const c = collect(path);
    await waitFor(() => c.text() === "a\n", "a");
    c.f.stop();
    c.f.stop();
    appendFileSync(path, "b\n");
    await sleep(5 * POLL);
    expect(c.text()).toBe("a\n");

    const ac = new AbortController();
    const got: string[] = [];
    followFile(path, { pollMs: POLL, signal: ac.signal, onChunk: (b) => got.push(Buffer.from(b).toString()) });
    await waitFor(() => got.join("") === "a\nb\n", "second follower");
    ac.abort();
    appendFileSync(path, "c\n");
    await sleep(5 * POLL);
    expect(got.join("")).toBe("a\nb\n");

    const pre = new AbortController();
    pre.abort();
    const never: Uint8Array[] = [];
    followFile(path, { pollMs: POLL, signal: pre.signal, onChunk: (b) => never.push(b) });
    await sleep(5 * POLL);
    expect(never.length).toBe(0);
  });

  test("stop() from inside onChunk stops at once", async () => {
    const path = join(dir, "self-stop.log");
    writeFileSync(path, "z".repeat(10_000));
    const got: Uint8Array[] = [];
    const f = followFile(path, {
      pollMs: POLL,
      bufferSize: 1000,
      onChunk: (b) => {
        got.push(b);
        f.stop();
      },
    });
    await sleep(5 * POLL);
    expect(got.length).toBe(1);
  });

  test("a throwing callback never escapes the timer; following continues", async () => {
    const path = join(dir, "throw.log");
    writeFileSync(path, "1\n");
    const errors: unknown[] = [];
    const got: string[] = [];
    let calls = 0;
    const f = followFile(path, {
      pollMs: POLL,
      onChunk: (b) => {
        got.push(Buffer.from(b).toString());
        if (calls++ === 0) throw new Error("consumer bug");
      },
      onEvent: () => {
        throw new Error("event consumer bug");
      },
      onError: (e) => errors.push(e),
    });
    try {
      await waitFor(() => got.join("") === "1\n", "first chunk");
      appendFileSync(path, "2\n");
      await waitFor(() => got.join("") === "1\n2\n", "second chunk after the throw");
      expect(errors.map((e) => (e as Error).message)).toContain("consumer bug");
      expect(errors.map((e) => (e as Error).message)).toContain("event consumer bug");
    } finally {
      f.stop();
    }
  });

  test("a directory at the path is not followed (waits, reports once)", async () => {
    const path = join(dir, "adir");
    mkdirSync(path);
    const c = collect(path);
    try {
      await sleep(6 * POLL);
      expect(c.events).toEqual(["waiting"]);
      expect(c.errors.length).toBe(1);
      rmSync(path, { recursive: true });
      writeFileSync(path, "now a file\n");
      await waitFor(() => c.text() === "now a file\n", "file content");
    } finally {
      c.f.stop();
    }
  });
});
