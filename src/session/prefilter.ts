// A cheap test, before a line goes to the phase tracker, for the lines that
// cannot matter to it: vLLM records at DEBUG, INFO or WARNING level that hold
// none of the recogniser's needles. For such a line the tracker would find no
// rule (rules are only tried when their needle occurs), could not start,
// chain or close a traceback (a traceback starts with a needle, chaining lines
// are matched below, and a traceback is closed only by a header-less, ERROR or
// CRITICAL line) and would learn nothing about server mode (an `(APIServer`
// prefix always goes through). Everything else - header-less text, ERROR and
// CRITICAL records, coloured messages, anything with a needle - goes to the
// tracker unchanged. In a 100k-line DEBUG start-up this skips most lines at a
// fraction of the cost of parsing them.
import { RULES } from "../logparse/patterns.ts";

const needles = [...new Set(RULES.map((r) => r.needle))];
const GATE = new RegExp([...needles, "above exception", "Traceback"]
  .map((n) => n.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join("|"), "g");
// Anything anatomy.ts would strip as a colour code (it could hide a needle).
const COLOUR = /\x1b|#033\[|\[[0-9]{1,2}(?:;[0-9]{1,2})*m/g;

const D = 68, I = 73, W = 87, SP = 32, DASH = 45, COLON = 58, LP = 40, RP = 41, ESC = 27, M = 109;
const isDigit = (c: number) => c >= 48 && c <= 57;

/**
 * Where the message of a DEBUG/INFO/WARNING record starts (after
 * `LEVEL MM-DD HH:MM:SS[.fff] [file:line] `), behind at most an optionally
 * coloured `(Proc pid=N) ` prefix that is not the API server's; -1 for any
 * other line, which then simply goes to the tracker. Hand-written: this runs
 * for every line of a DEBUG start-up.
 */
export function recordMessageStart(line: string): number {
  let i = 0;
  let c = line.charCodeAt(0);
  if (c === ESC) {
    i = line.indexOf("m", 1) + 1;
    if (i === 0 || i > 16) return -1;
    c = line.charCodeAt(i);
  }
  if (c === LP) {
    const close = line.indexOf(")", i);
    if (close < 0 || close - i > 80 || line.startsWith("(APIServer", i)) return -1;
    i = close + 1;
    if (line.charCodeAt(i) === ESC) {
      const m = line.indexOf("m", i);
      if (m < 0 || m - i > 16) return -1;
      i = m + 1;
    }
    if (line.charCodeAt(i) !== SP) return -1;
    i++;
    c = line.charCodeAt(i);
  }
  if (c === D) {
    if (!line.startsWith("DEBUG ", i)) return -1;
    i += 6;
  } else if (c === I) {
    if (!line.startsWith("INFO ", i)) return -1;
    i += 5;
  } else if (c === W) {
    if (!line.startsWith("WARNING ", i)) return -1;
    i += 8;
  } else return -1;
  // MM-DD HH:MM:SS
  if (!(isDigit(line.charCodeAt(i)) && isDigit(line.charCodeAt(i + 1)) && line.charCodeAt(i + 2) === DASH
    && isDigit(line.charCodeAt(i + 3)) && isDigit(line.charCodeAt(i + 4)) && line.charCodeAt(i + 5) === SP
    && isDigit(line.charCodeAt(i + 6)) && isDigit(line.charCodeAt(i + 7)) && line.charCodeAt(i + 8) === COLON
    && isDigit(line.charCodeAt(i + 9)) && isDigit(line.charCodeAt(i + 10)) && line.charCodeAt(i + 11) === COLON
    && isDigit(line.charCodeAt(i + 12)) && isDigit(line.charCodeAt(i + 13)))) return -1;
  i += 14;
  c = line.charCodeAt(i);
  if (c === 46 || c === 44) { // .fff or ,fff
    i++;
    while (isDigit(line.charCodeAt(i))) i++;
  }
  if (line.charCodeAt(i) !== SP) return -1;
  i++;
  // [file:line] (v0.8+) or file:line] (older)
  const close = line.indexOf("] ", i);
  if (close < 0 || close - i > 120) return -1;
  return close + 2;
}

/** True when the tracker can safely not see `line`. */
export function skippable(line: string): boolean {
  const from = recordMessageStart(line);
  if (from < 0) return false;
  GATE.lastIndex = from;
  if (GATE.test(line)) return false;
  COLOUR.lastIndex = from;
  return !COLOUR.test(line);
}
