// The native copier thread (src/process/copier.c through src/process/fast-pump.ts),
// driven directly over real pipes and real child processes: byte-exact copies,
// the parser's ring woken when half full, arrival times, and a closed stream.
import { afterAll, expect, test } from "bun:test";
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { createHash } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FastStream, RING_BYTES } from "../../src/process/fast-pump.ts";
import { makePipes } from "../../src/process/child.ts";

const dir = mkdtempSync(join(tmpdir(), "st-copier-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const linuxX64 = process.platform === "linux" && process.arch === "x64";

/** A child writing `mib` MiB of numbered lines at about `mbPerS` MB/s, then its sha256 and size on stderr. */
function writer(mib: number, mbPerS: number): string[] {
  const code = `
    const { createHash } = require("node:crypto"); const { writeSync } = require("node:fs");
    const h = createHash("sha256"); let n = 0, i = 0; const t0 = performance.now();
    while (n < ${mib} * 1048576) {
      let s = ""; for (let k = 0; k < 200; k++) s += "line " + String(i++).padStart(9, "0") + " of the flood, padding padding padding\\n";
      const b = Buffer.from(s); let off = 0; while (off < b.length) off += writeSync(1, b, off);
      h.update(b); n += b.length;
      while (performance.now() < t0 + n / (${mbPerS} * 1000)) {}
    }
    process.stderr.write(h.digest("hex") + " " + n + "\\n");`;
  return [process.execPath, "-e", code];
}

async function copyThrough(argv: string[], outFd: number, pullEveryMs = 100) {
  const pipes = makePipes()!;
  const t0 = performance.timeOrigin + performance.now();
  const proc = Bun.spawn(argv, { stdin: "ignore", stdout: pipes.out[1], stderr: "pipe" });
  pipes.close(pipes.out[1]);
  pipes.close(pipes.err[0]);
  pipes.close(pipes.err[1]);
  const s = new FastStream(pipes.out[0], outFd);
  const hash = createHash("sha256");
  let parsed = 0, wakes = 0, lastT = 0, timesOk = true;
  const take = () => s.pull((c, t) => {
    hash.update(c);
    parsed += c.length;
    if (!(t >= lastT && t >= t0 - 5)) timesOk = false;
    lastT = t;
  });
  s.onWake = () => { wakes++; take(); };
  const iv = setInterval(take, pullEveryMs);
  const err = await new Response(proc.stderr).text();
  const code = await proc.exited;
  await s.finished;
  clearInterval(iv);
  take();
  const t1 = performance.timeOrigin + performance.now();
  return { s, err, code, parsed, wakes, parsedSha: hash.digest("hex"), timesOk: timesOk && lastT <= t1 + 5 };
}

test.skipIf(!linuxX64)("copies a 24 MiB flood byte for byte; a ring half full wakes the parser, which loses nothing", async () => {
  const file = join(dir, "out.bin");
  const fd = openSync(file, "w");
  // 24 MiB at ~40 MB/s against a 1 MiB ring pulled only every 500 ms: without the wake-ups it would overflow.
  const r = await copyThrough(writer(24, 40), fd, 500);
  closeSync(fd);
  expect(r.code).toBe(0);
  const [sha, size] = r.err.trim().split(" ");
  const out = readFileSync(file);
  expect(out.length).toBe(Number(size));
  expect(createHash("sha256").update(out).digest("hex")).toBe(sha);
  expect(r.s.stats.bytes).toBe(Number(size));
  expect(r.s.stats.droppedBytes).toBe(0);
  expect(r.wakes).toBeGreaterThan(Math.floor((24 << 20) / RING_BYTES)); // at least one per half ring of output
  expect(r.s.stats.parserGaps).toBe(0);
  expect(r.parsed).toBe(Number(size));
  expect(r.parsedSha).toBe(sha);
  expect(r.timesOk).toBe(true);
  expect(r.s.eof).toBe(true);
}, 30_000);

test.skipIf(!linuxX64)("our stream closed (EPIPE): the child's pipe is still drained to its end, the loss counted", async () => {
  const pipe = makePipes()!;
  pipe.close(pipe.out[0]); // nobody will ever read this one
  // At the flood test's rate: the parser keeps up through the wake-ups on a busy machine too
  // (at 200 MB/s a 1 MiB ring needs a pull within ~2.5 ms, which a loaded 2-vCPU machine missed).
  const r = await copyThrough(writer(4, 40), pipe.out[1]);
  pipe.close(pipe.out[1]);
  for (const fd of pipe.err) pipe.close(fd);
  expect(r.code).toBe(0); // the child was never blocked or killed
  const [sha, size] = r.err.trim().split(" ");
  expect(r.s.stats.closed).toBe(true);
  expect(r.s.stats.errno).toBe(32);
  expect(r.s.stats.bytes + r.s.stats.droppedBytes).toBe(Number(size));
  // The parser still saw everything.
  expect(r.parsed).toBe(Number(size));
  expect(r.parsedSha).toBe(sha);
}, 30_000);

test.skipIf(!linuxX64)("stopParsing: the copy goes on, nothing more reaches the ring", async () => {
  const file = join(dir, "out2.bin");
  const fd = openSync(file, "w");
  const pipes = makePipes()!;
  const proc = Bun.spawn(["sh", "-c", "echo first; sleep 0.3; seq 1 100000"], { stdout: pipes.out[1], stderr: "ignore" });
  pipes.close(pipes.out[1]);
  for (const e of pipes.err) pipes.close(e);
  const s = new FastStream(pipes.out[0], fd);
  await Bun.sleep(150);
  let seen = "";
  s.pull((c) => { seen += new TextDecoder().decode(c); });
  s.stopParsing();
  await proc.exited;
  await s.finished;
  s.pull((c) => { seen += new TextDecoder().decode(c); });
  closeSync(fd);
  expect(seen).toBe("first\n");
  const out = readFileSync(file, "utf8");
  expect(out.startsWith("first\n1\n2\n")).toBe(true);
  expect(out.endsWith("\n100000\n")).toBe(true);
}, 30_000);
