// The tracer's own messages on stderr: one line each, prefixed, redacted, and
// never able to throw (stderr may be closed).
import { redactText } from "../redact/redact.ts";

let quiet = false;
export function setQuietWarnings(q: boolean): void {
  quiet = q;
}

export function say(line: string): void {
  try {
    process.stderr.write(`startup-tracer: ${redactText(line)}\n`);
  } catch { /* stderr gone: nothing to do */ }
}

export function warn(line: string): void {
  if (!quiet) say(`warning: ${line}`);
}
