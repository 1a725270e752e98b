// Applies the pattern table to parsed lines and yields events for the tracker.
// Cheap by construction: a line is tested against a rule's regex only when the
// rule's literal needle occurs in it, and lines are capped in length before
// they get here (src/logparse/line-splitter.ts).
import { EXCEPTION_LINE, RULES, type Rule } from "./patterns.ts";
import type { LogLine } from "./anatomy.ts";

export interface Recognized {
  rule: Rule;
  m: RegExpExecArray;
}

export interface ExceptionInfo {
  type: string;
  text: string;
  /** Closes a traceback that continues a chained one of the same process. */
  chained?: boolean;
}

// Group rules by needle so a needle shared by several rules is searched once.
const BY_NEEDLE = new Map<string, Rule[]>();
for (const r of RULES) {
  const list = BY_NEEDLE.get(r.needle);
  if (list) list.push(r);
  else BY_NEEDLE.set(r.needle, [r]);
}
const NEEDLES = [...BY_NEEDLE.entries()];
// Gate: one alternation of all needles (plain literals, so matching is linear).
// Most lines contain none and leave here after a single regex scan; the rest go
// through the per-needle loop, which also finds needles that overlap.
const GATE = new RegExp(NEEDLES.map(([n]) => n.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join("|"));

export function recognize(line: LogLine, out: Recognized[]): Recognized[] {
  out.length = 0;
  const msg = line.message;
  if (!GATE.test(msg)) return out;
  for (let i = 0; i < NEEDLES.length; i++) {
    const [needle, rules] = NEEDLES[i];
    if (msg.indexOf(needle) < 0) continue;
    for (const rule of rules) {
      if (rule.level && rule.level !== line.level) continue;
      const m = rule.re.exec(msg);
      if (m) out.push({ rule, m });
    }
  }
  return out;
}

/**
 * Tracks open tracebacks per process and returns the exception line that closes one.
 * Chained tracebacks ("During handling of the above exception, another exception
 * occurred:" / "The above exception was the direct cause of the following
 * exception:") continue the chain: the exception that closes the next traceback
 * of the same process is returned with `chained: true` and replaces the earlier one
 * (Python prints the exception that finally propagated last).
 */
export class TracebackWatcher {
  private open = new Set<string>();
  private chaining = new Set<string>();

  /** Returns the exception when `line` closes a traceback of its process. */
  feed(line: LogLine, key: string, isTracebackStart: boolean): ExceptionInfo | null {
    if (isTracebackStart) {
      this.open.add(key);
      return null;
    }
    const msg = line.message;
    if (msg.length > 20 && msg.length < 200 && (msg.startsWith("During handling of the above exception") || msg.startsWith("The above exception was the direct cause"))) {
      this.chaining.add(key);
      return null;
    }
    const own = this.open.has(key);
    if (!own && !(key === "-" && this.open.size > 0)) return null;
    if (msg.length === 0 || msg[0] === " " || msg[0] === "\t" || msg.startsWith("File ")) return null;
    if (line.level && line.level !== "ERROR" && line.level !== "CRITICAL") return null;
    const m = EXCEPTION_LINE.exec(msg.length > 2000 ? msg.slice(0, 2000) : msg);
    if (!m) return null;
    let ownKey = key;
    if (own) this.open.delete(key);
    else {
      ownKey = this.open.values().next().value as string;
      this.open.clear();
    }
    const chained = this.chaining.delete(ownKey) || (ownKey !== key && this.chaining.delete(key));
    const type = m[1];
    const text = (m[2] ? `${type}: ${m[2]}` : type).trim();
    return { type, text, chained };
  }
}
