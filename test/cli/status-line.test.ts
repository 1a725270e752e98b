// The live status line on a real terminal (a pseudo-terminal made by Python's
// pty module): drawn while the child is quiet, and always cleared before the
// child's next output, so it never shares a line with it.
import { expect, test } from "bun:test";
import { tempStateDir, tracerCmd } from "../helpers/tracer.ts";

test("the status line is drawn while the child is quiet and cleared before its next line", async () => {
  const child = ["sh", "-c", "echo first-line; sleep 1.6; echo second-line; echo err-line >&2"];
  const proc = Bun.spawn(["python3", "-c", "import pty, sys; sys.exit(pty.spawn(sys.argv[1:]) >> 8)",
    ...tracerCmd(), "--no-history", "--state-dir", tempStateDir(), "--", ...child],
  { stdout: "pipe", stderr: "pipe", env: { ...process.env, NO_COLOR: "1", OTEL_TRACES_EXPORTER: "none" } });
  const out = await new Response(proc.stdout).text();
  expect(await proc.exited).toBe(0);
  expect(out).toContain("first-line");
  expect(out).toMatch(/⏱ \S+ [\d.]+ s · elapsed [\d.]+ s/); // drawn during the sleep
  // The line drawn during the sleep is erased (CR, erase line) right before the child's next output.
  const at = out.indexOf("second-line");
  expect(at).toBeGreaterThan(0);
  const before = out.slice(out.lastIndexOf("\n", at) + 1, at);
  expect(before).toContain("\r\x1b[2K");
  expect(before.slice(before.lastIndexOf("\x1b[2K") + 4)).toBe(""); // nothing of the status left before it
  // On screen the child's lines are whole: what a terminal shows of each line is the text after
  // its last carriage return or erase (the pty ends lines with CR LF).
  const shown = (line: string) => line.replace(/\r$/, "").split(/\r|\x1b\[2K/).pop();
  const childLines = out.split("\n").filter((l) => /first-line|second-line|err-line/.test(l)).map(shown);
  expect(childLines).toEqual(["first-line", "second-line", "err-line"]);
}, 20_000);
