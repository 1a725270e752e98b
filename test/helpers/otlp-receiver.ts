// A real OTLP/HTTP trace receiver on loopback for tests: accepts JSON and
// protobuf ExportTraceServiceRequest bodies and decodes both into one shape.
export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  startNs: bigint;
  endNs: bigint;
  attributes: Record<string, unknown>;
  status: { code: number; message?: string };
  events: { name: string; attributes: Record<string, unknown> }[];
  resource: Record<string, unknown>;
}

export interface Receiver {
  url: string;
  port: number;
  spans: ReceivedSpan[];
  requests: { contentType: string; headers: Record<string, string> }[];
  /** Status to answer with (e.g. 503 to simulate an outage). */
  answer: number;
  waitForSpans(n: number, timeoutMs?: number): Promise<ReceivedSpan[]>;
  stop(): void;
}

export function startReceiver(opts: { port?: number; answer?: number } = {}): Receiver {
  const r: Receiver = {
    url: "", port: 0, spans: [], requests: [], answer: opts.answer ?? 200,
    async waitForSpans(n, timeoutMs = 10_000) {
      const end = Date.now() + timeoutMs;
      while (r.spans.length < n && Date.now() < end) await Bun.sleep(20);
      return r.spans;
    },
    stop() { server.stop(true); },
  };
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: opts.port ?? 0,
    async fetch(req) {
      const ct = req.headers.get("content-type") ?? "";
      r.requests.push({ contentType: ct, headers: Object.fromEntries(req.headers as unknown as Iterable<[string, string]>) });
      const body = new Uint8Array(await req.arrayBuffer());
      if (r.answer !== 200) return new Response("unavailable", { status: r.answer });
      if (ct.includes("json")) r.spans.push(...fromJson(JSON.parse(new TextDecoder().decode(body))));
      else r.spans.push(...fromProtobuf(body));
      return ct.includes("json")
        ? Response.json({})
        : new Response(new Uint8Array(0), { headers: { "content-type": "application/x-protobuf" } });
    },
  });
  r.port = server.port!;
  r.url = `http://127.0.0.1:${server.port}`;
  return r;
}

function anyValue(v: any): unknown {
  if (v == null) return null;
  if ("stringValue" in v) return v.stringValue;
  if ("boolValue" in v) return v.boolValue;
  if ("intValue" in v) return Number(v.intValue);
  if ("doubleValue" in v) return v.doubleValue;
  if ("arrayValue" in v) return (v.arrayValue.values ?? []).map(anyValue);
  return null;
}

function attrs(list: any[] | undefined): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (const kv of list ?? []) o[kv.key] = anyValue(kv.value);
  return o;
}

function fromJson(doc: any): ReceivedSpan[] {
  const out: ReceivedSpan[] = [];
  for (const rs of doc.resourceSpans ?? []) {
    const resource = attrs(rs.resource?.attributes);
    for (const ss of rs.scopeSpans ?? []) {
      for (const s of ss.spans ?? []) {
        out.push({
          traceId: s.traceId, spanId: s.spanId, parentSpanId: s.parentSpanId ?? "", name: s.name,
          startNs: BigInt(s.startTimeUnixNano), endNs: BigInt(s.endTimeUnixNano), attributes: attrs(s.attributes),
          status: { code: s.status?.code ?? 0, message: s.status?.message },
          events: (s.events ?? []).map((e: any) => ({ name: e.name, attributes: attrs(e.attributes) })), resource,
        });
      }
    }
  }
  return out;
}

// ---- a minimal protobuf reader for ExportTraceServiceRequest ----------------
class Reader {
  pos = 0;
  constructor(readonly buf: Uint8Array, readonly end = buf.length) {}
  varint(): bigint {
    let shift = 0n;
    let v = 0n;
    for (;;) {
      const b = this.buf[this.pos++];
      v |= BigInt(b & 0x7f) << shift;
      if (!(b & 0x80)) return v;
      shift += 7n;
    }
  }
  fields(): { no: number; wire: number; val: bigint | Uint8Array }[] {
    const out = [];
    while (this.pos < this.end) {
      const tag = Number(this.varint());
      const no = tag >> 3;
      const wire = tag & 7;
      if (wire === 0) out.push({ no, wire, val: this.varint() });
      else if (wire === 1) {
        const dv = new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, 8);
        out.push({ no, wire, val: dv.getBigUint64(0, true) });
        this.pos += 8;
      } else if (wire === 2) {
        const len = Number(this.varint());
        out.push({ no, wire, val: this.buf.subarray(this.pos, this.pos + len) });
        this.pos += len;
      } else if (wire === 5) {
        this.pos += 4;
      } else throw new Error(`wire type ${wire}`);
    }
    return out;
  }
}

const fields = (b: Uint8Array) => new Reader(b).fields();
const hex = (b: Uint8Array) => [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
const str = (b: Uint8Array) => new TextDecoder().decode(b);

function pbAnyValue(b: Uint8Array): unknown {
  for (const f of fields(b)) {
    const v = f.val;
    if (f.no === 1) return str(v as Uint8Array);
    if (f.no === 2) return v === 1n;
    if (f.no === 3) return Number(BigInt.asIntN(64, v as bigint));
    if (f.no === 4) return new DataView(new BigUint64Array([v as bigint]).buffer).getFloat64(0, true);
    if (f.no === 5) return fields(v as Uint8Array).filter((x) => x.no === 1).map((x) => pbAnyValue(x.val as Uint8Array));
  }
  return null;
}

function pbKv(b: Uint8Array): [string, unknown] {
  let k = "";
  let v: unknown = null;
  for (const f of fields(b)) {
    if (f.no === 1) k = str(f.val as Uint8Array);
    if (f.no === 2) v = pbAnyValue(f.val as Uint8Array);
  }
  return [k, v];
}

function fromProtobuf(body: Uint8Array): ReceivedSpan[] {
  const out: ReceivedSpan[] = [];
  for (const rs of fields(body).filter((f) => f.no === 1)) {
    let resource: Record<string, unknown> = {};
    const rsf = fields(rs.val as Uint8Array);
    for (const f of rsf) if (f.no === 1) resource = Object.fromEntries(fields(f.val as Uint8Array).filter((x) => x.no === 1).map((x) => pbKv(x.val as Uint8Array)));
    for (const ss of rsf.filter((f) => f.no === 2)) {
      for (const sp of fields(ss.val as Uint8Array).filter((f) => f.no === 2)) {
        const s: ReceivedSpan = { traceId: "", spanId: "", parentSpanId: "", name: "", startNs: 0n, endNs: 0n, attributes: {}, status: { code: 0 }, events: [], resource };
        for (const f of fields(sp.val as Uint8Array)) {
          const v = f.val;
          if (f.no === 1) s.traceId = hex(v as Uint8Array);
          else if (f.no === 2) s.spanId = hex(v as Uint8Array);
          else if (f.no === 4) s.parentSpanId = hex(v as Uint8Array);
          else if (f.no === 5) s.name = str(v as Uint8Array);
          else if (f.no === 7) s.startNs = v as bigint;
          else if (f.no === 8) s.endNs = v as bigint;
          else if (f.no === 9) { const [k, x] = pbKv(v as Uint8Array); s.attributes[k] = x; }
          else if (f.no === 11) {
            const ev = { name: "", attributes: {} as Record<string, unknown> };
            for (const g of fields(v as Uint8Array)) {
              if (g.no === 2) ev.name = str(g.val as Uint8Array);
              if (g.no === 3) { const [k, x] = pbKv(g.val as Uint8Array); ev.attributes[k] = x; }
            }
            s.events.push(ev);
          } else if (f.no === 15) {
            for (const g of fields(v as Uint8Array)) {
              if (g.no === 2) s.status.message = str(g.val as Uint8Array);
              if (g.no === 3) s.status.code = Number(g.val);
            }
          }
        }
        out.push(s);
      }
    }
  }
  return out;
}
