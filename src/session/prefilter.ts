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
import { keepBelowFTL } from "../process/jit-budget.ts";

const needles = [...new Set(RULES.map((r) => r.needle))];
const GATE_WORDS = [...needles, "above exception", "Traceback"];

// The needle search: the start of the leftmost occurrence of any GATE_WORDS
// at or after `from`. A regex alternation of ~60 literals tries every one at
// every position (~45 ms over a 100k-line DEBUG start-up); this is Wu-Manber's
// multi-pattern search instead: a window of the shortest word's length WIN slides
// along, and the last two characters of the window (above 0xff folded to 0xff)
// say how far it may jump without passing any word's start; where it may not
// move, the words whose first WIN characters end in those two are checked with
// startsWith (after a second table lookup on the window's first two
// characters, which rules out nearly all of them). Windows are taken in order,
// so the first word found is the leftmost. The few words shorter than
// SHORT_LEN ("█", "eager", "args: ") are found with native indexOf searches.
// Over the 8.8 MB of a 100k-line DEBUG start-up: ~13 ms instead of ~42 ms.
const fold = (c: number) => (c > 0xff ? 0xff : c);
/** Words shorter than this are searched for one by one with indexOf (native and fast; few words). */
const SHORT_LEN = 8;
const SHORT = [...new Set(GATE_WORDS.filter((w) => w.length < SHORT_LEN))];
const LONG = [...new Set(GATE_WORDS.filter((w) => w.length >= SHORT_LEN))];
const WIN = Math.min(...LONG.map((w) => w.length));
const bigram = (w: string, j: number) => (fold(w.charCodeAt(j - 1)) << 8) | fold(w.charCodeAt(j));
const SHIFT = new Uint8Array(1 << 16).fill(WIN - 1);
const CANDIDATES: string[][] = [];
// Second check before startsWith: the window's first two characters with its last two.
const pairSlot = (first: number, last: number) => (Math.imul(first, 0x9e3779b1) ^ Math.imul(last, 0x85ebca6b)) >>> 16;
const PAIRS = new Uint8Array(1 << 16);
for (const w of LONG) {
  PAIRS[pairSlot(bigram(w, 1), bigram(w, WIN - 1))] = 1;
  for (let j = 1; j < WIN; j++) {
    const g = bigram(w, j);
    SHIFT[g] = Math.min(SHIFT[g], WIN - 1 - j);
  }
  (CANDIDATES[bigram(w, WIN - 1)] ??= []).push(w);
}

// The short words' searches run over the whole rest of a chunk, so their last answers are
// kept per word (as nextMatch does): a chunk where every line holds a needle would
// otherwise cost a scan of the rest of the chunk per line.
const short = { text: "", at: new Float64Array(SHORT.length), pos: new Float64Array(SHORT.length) };

/** Start of the leftmost needle at or after `from` (Infinity: none). Exported for tests. */
export function findNeedle(text: string, from: number): number {
  let best = Infinity;
  if (short.text !== text) {
    short.text = text;
    short.at.fill(Infinity); // nothing known for this text
  }
  for (let k = 0; k < SHORT.length; k++) {
    let p = short.pos[k];
    if (!(short.at[k] <= from && p >= from)) {
      const i = text.indexOf(SHORT[k], from);
      p = i < 0 ? Infinity : i;
      short.at[k] = from;
      short.pos[k] = p;
    }
    if (p < best) best = p;
  }
  const n = Math.min(text.length, best === Infinity ? text.length : best + WIN - 1);
  let end = from + WIN - 1;
  while (end < n) {
    const c1 = text.charCodeAt(end), c0 = text.charCodeAt(end - 1);
    const g = ((c0 > 0xff ? 0xff : c0) << 8) | (c1 > 0xff ? 0xff : c1);
    const sh = SHIFT[g];
    if (sh > 0) {
      end += sh;
      continue;
    }
    const start = end - WIN + 1;
    const f0 = text.charCodeAt(start), f1 = text.charCodeAt(start + 1);
    if (PAIRS[pairSlot(((f0 > 0xff ? 0xff : f0) << 8) | (f1 > 0xff ? 0xff : f1), g)] === 0) {
      end++;
      continue;
    }
    for (const w of CANDIDATES[g]) if (text.startsWith(w, start)) return start < best ? start : best;
    end++;
  }
  return best;
}
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
  return messageStartIn(line, 0, line.length);
}

/**
 * recordMessageStart for the line text[from, to) of a larger text, as an index
 * into text. The character at `to` (if any) must be a line break: the literal
 * comparisons below can then never match across it, and the searches are bounded.
 */
function messageStartIn(line: string, from: number, to: number): number {
  let i = from;
  let c = line.charCodeAt(from);
  if (c === ESC) {
    i = line.indexOf("m", from + 1) + 1;
    if (i === 0 || i - from > 16 || i > to) return -1;
    c = line.charCodeAt(i);
  }
  if (c === LP) {
    const close = line.indexOf(")", i);
    if (close < 0 || close - i > 80 || close >= to || line.startsWith("(APIServer", i)) return -1;
    i = close + 1;
    if (line.charCodeAt(i) === ESC) {
      const m = line.indexOf("m", i);
      if (m < 0 || m - i > 16 || m >= to) return -1;
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
  if (close < 0 || close - i > 120 || close + 1 >= to) return -1;
  return close + 2;
}

/**
 * skippable(text.slice(from, to)) without making the string: for a chunk's
 * lines, split but not yet sliced (src/logparse/line-splitter.ts). `text[to]`,
 * if it exists, must be a line break. The needle and colour searches run over
 * the chunk once: the next match at or after a position is remembered, so a
 * chunk with no needle costs one regex scan however many lines it holds.
 */
export function skippableIn(text: string, from: number, to: number): boolean {
  const msg = messageStartIn(text, from, to);
  if (msg < 0) return false;
  return nextNeedle(text, msg) >= to && nextMatch(colour, text, msg) >= to;
}

interface Cursor { re: RegExp; text: string; at: number; pos: number }
const gate = { text: "", at: 0, pos: 0 };
const colour: Cursor = { re: new RegExp(COLOUR.source, "g"), text: "", at: 0, pos: 0 };

/** findNeedle(text, from), remembering the last answer as nextMatch does. */
function nextNeedle(text: string, from: number): number {
  const c = gate;
  if (c.text === text && c.at <= from && c.pos >= from) return c.pos;
  c.text = text;
  c.at = from;
  c.pos = findNeedle(text, from);
  return c.pos;
}

/** Start of the leftmost match at or after `from` (Infinity: none). */
function nextMatch(c: Cursor, text: string, from: number): number {
  // A match found searching from c.at that starts at or after `from` is also the leftmost from `from`.
  if (c.text === text && c.at <= from && c.pos >= from) return c.pos;
  c.re.lastIndex = from;
  const m = c.re.exec(text);
  c.text = text;
  c.at = from;
  c.pos = m ? m.index : Infinity;
  return c.pos;
}

/** True when the tracker can safely not see `line`. */
export function skippable(line: string): boolean {
  const from = recordMessageStart(line);
  if (from < 0) return false;
  if (findNeedle(line, from) !== Infinity) return false;
  COLOUR.lastIndex = from;
  return !COLOUR.test(line);
}

keepBelowFTL(findNeedle, messageStartIn, skippableIn, nextNeedle, nextMatch, skippable);
