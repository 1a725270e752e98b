// Trace identity, decided before the child starts so that TRACEPARENT can be
// put into its environment (W3C Trace Context; OTel env-carrier spec). Tiny and
// dependency-free: it runs on the start-up path.
// crypto.getRandomValues (a global): importing node:crypto costs about 30 ms of start-up in a compiled Bun binary.

export interface TraceIds {
  traceId: string;
  /** The root span's id: the child's TRACEPARENT names it as parent. */
  rootSpanId: string;
  /** An inherited TRACEPARENT's span id: the root's parent. */
  parentSpanId: string | null;
  traceFlags: number;
  traceState: string | null;
}

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(?:-.*)?$/;

function hex(bytes: number): string {
  const b = new Uint8Array(bytes);
  crypto.getRandomValues(b);
  let s = "";
  for (const x of b) s += x.toString(16).padStart(2, "0");
  return s;
}

function randomNonZero(bytes: number): string {
  for (;;) {
    const h = hex(bytes);
    if (!/^0+$/.test(h)) return h;
  }
}

/** Parses an inherited TRACEPARENT; invalid values are ignored (returns null). */
export function parseTraceparent(v: string | undefined): { traceId: string; spanId: string; flags: number } | null {
  if (!v) return null;
  const m = TRACEPARENT.exec(v.trim().toLowerCase());
  if (!m || m[1] === "ff" || /^0+$/.test(m[2]) || /^0+$/.test(m[3])) return null;
  if (m[1] === "00" && v.trim().length !== 55) return null;
  return { traceId: m[2], spanId: m[3], flags: parseInt(m[4], 16) };
}

export function newTraceIds(env: Record<string, string | undefined>): TraceIds {
  const inherited = parseTraceparent(env.TRACEPARENT);
  return {
    traceId: inherited?.traceId ?? randomNonZero(16),
    rootSpanId: randomNonZero(8),
    parentSpanId: inherited?.spanId ?? null,
    traceFlags: inherited ? inherited.flags | 1 : 1,
    traceState: inherited ? (env.TRACESTATE ?? null) : null,
  };
}

export function traceparentFor(ids: TraceIds): string {
  return `00-${ids.traceId}-${ids.rootSpanId}-${ids.traceFlags.toString(16).padStart(2, "0")}`;
}
