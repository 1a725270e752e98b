// Line anatomy: turns one physical log line (any wrapper, any vLLM era) into
// its parts. vLLM's record header is searched anywhere in the line, so outer
// wrappers (journald, docker compose, Docker Desktop, DJL, indentation) need
// no special cases. See ../shared/vllm-log-catalog.md §2.

export interface LogLine {
  /** Level from vLLM's header or uvicorn's `INFO:` prefix; null for other text. */
  level: string | null;
  /** vLLM's own timestamp parts (no year, 1 s or ms resolution), when present. */
  month: number;
  day: number;
  /** Seconds since midnight, with the fraction when the log has milliseconds. */
  secondOfDay: number;
  hasTime: boolean;
  /** Source file of the record (`[file:line]`), when present. */
  file: string | null;
  /** The message after the header (or the whole cleaned line). */
  message: string;
  /** `(<name> pid=<pid>)` process prefix, when present. */
  proc: string | null;
  pid: number | null;
  /**
   * Output stream named by an outer multiplexing wrapper: the docker compose
   * service (`qwen3.5-4b  | ...`). null when the line has no such prefix (also
   * tqdm bars of a compose stream, which compose prints without it).
   */
  stream: string | null;
}

// ANSI colour codes as raw bytes, as CloudWatch's `#033[..m` and as bare `[1;36m`
// left by copy-paste (catalogue §2.1, INDEX "Colour").
const ANSI = /\x1b\[[0-9;?]*[A-Za-z]|#033\[[0-9;]*m|\[[0-9]{1,2}(?:;[0-9]{1,2})*m/g;
const PROC = /\(([A-Za-z][\w\-.]*(?:[ _][\w\-.=]+)*) pid=(\d+)\)/;
// `LEVEL MM-DD HH:MM:SS[.mmm] [file:line] msg`; up to v0.7 without the `[`.
const HEADER =
  /\b(DEBUG|INFO|WARNING|ERROR|CRITICAL) (\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)(?:[.,](\d{1,6}))? \[?([^\]\s]+):(\d+)\] ?/;
const UVICORN = /\b(INFO|WARNING|ERROR|CRITICAL|DEBUG):\s{2,}/;
// Python logging's default `%(asctime)s - %(levelname)s - ` (FlashInfer's autotuner
// inside vLLM's engine process: `2026-01-23 15:50:10,030 - INFO - autotuner.py:256 - …`),
// on the engine's own clock. Docker Desktop's export prefix has a dot and " | ", not this.
const PY_ASCTIME = /\b\d{4}-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d),(\d{3}) - (DEBUG|INFO|WARNING|ERROR|CRITICAL) - /;
// docker compose: service name, padding, "| " at the start of the line. A
// Docker Desktop export (`2026-05-01 19:08:06.391 | `) has a space inside its
// first field and so does not match.
const COMPOSE = /^([A-Za-z0-9][\w.\-]{0,62}) +\| /;

export function stripAnsi(s: string): string {
  return s.indexOf("[") < 0 && s.indexOf("\x1b") < 0 ? s : s.replace(ANSI, "");
}

export function parseLine(raw: string): LogLine {
  const text = stripAnsi(raw);
  const out: LogLine = {
    level: null, month: 0, day: 0, secondOfDay: 0, hasTime: false,
    file: null, message: text, proc: null, pid: null, stream: null,
  };
  let bodyStart = 0;
  if (text.indexOf(" | ") > 0) {
    const c = COMPOSE.exec(text);
    if (c) {
      out.stream = c[1];
      bodyStart = c[0].length;
      out.message = text.slice(bodyStart);
    }
  }
  const h = HEADER.exec(text);
  let h2: RegExpExecArray | null = null;
  let before = text;
  if (h) {
    out.level = h[1];
    out.month = +h[2];
    out.day = +h[3];
    out.secondOfDay = +h[4] * 3600 + +h[5] * 60 + +h[6] + (h[7] ? +`0.${h[7]}` : 0);
    out.hasTime = true;
    out.file = h[8];
    out.message = text.slice(h.index + h[0].length);
    before = text.slice(0, h.index);
  } else if (text.indexOf(" - ") > 0 && (h2 = PY_ASCTIME.exec(text)) && h2.index < 120) {
    out.level = h2[7];
    out.month = +h2[1];
    out.day = +h2[2];
    out.secondOfDay = +h2[3] * 3600 + +h2[4] * 60 + +h2[5] + +h2[6] / 1000;
    out.hasTime = true;
    out.message = text.slice(h2.index + h2[0].length);
    before = text.slice(0, h2.index);
  } else {
    const u = UVICORN.exec(text);
    if (u && u.index < 80) {
      out.level = u[1];
      out.message = text.slice(u.index + u[0].length);
      before = text.slice(0, u.index);
    }
  }
  // The process prefix sits before the header; for header-less lines (tqdm,
  // tracebacks) it starts the text after any wrapper.
  const p = PROC.exec(h || h2 || out.level ? before : text.slice(bodyStart, bodyStart + 200));
  if (p) {
    out.proc = p[1];
    out.pid = +p[2];
    if (!h && !out.level) {
      // One separator space follows the prefix; what comes after it is the
      // record's own text (a traceback frame keeps its indentation).
      let from = bodyStart + p.index + p[0].length;
      if (text.charCodeAt(from) === 32) from++;
      out.message = text.slice(from);
    }
  }
  return out;
}
