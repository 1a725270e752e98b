// The OTLP/gRPC transport against a real gRPC server on loopback (@grpc/grpc-js,
// the TraceService/Export method): the body arrives byte for byte, headers from
// the tracer's configuration and from OTEL_EXPORTER_OTLP_TRACES_HEADERS arrive
// as metadata, a server that never answers is cut at the timeout, and the
// OTLP rule on retryable status codes decides what is retried.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import * as grpc from "@grpc/grpc-js";
import { sendGrpc } from "../../src/trace/grpc-export.ts";

type Behaviour = "ok" | "hang" | "unauthenticated" | "unavailable";
let behaviour: Behaviour = "ok";
const received: { body: Buffer; metadata: Record<string, unknown> }[] = [];
const server = new grpc.Server();
let endpoint = "";

beforeAll(async () => {
  const id = (b: Buffer) => b;
  server.addService({
    export: { path: "/opentelemetry.proto.collector.trace.v1.TraceService/Export", requestStream: false, responseStream: false,
      requestSerialize: id, requestDeserialize: id, responseSerialize: id, responseDeserialize: id },
  }, {
    export: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => {
      received.push({ body: call.request, metadata: call.metadata.getMap() });
      if (behaviour === "ok") cb(null, Buffer.alloc(0));
      else if (behaviour === "unauthenticated") cb({ code: grpc.status.UNAUTHENTICATED, details: "no token" } as grpc.ServiceError);
      else if (behaviour === "unavailable") cb({ code: grpc.status.UNAVAILABLE, details: "overloaded" } as grpc.ServiceError);
      // "hang": never answers
    },
  });
  const port = await new Promise<number>((res, rej) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (e, p) => (e ? rej(e) : res(p))));
  endpoint = `http://127.0.0.1:${port}`;
});

afterAll(() => {
  server.forceShutdown();
});

const body = new Uint8Array([10, 3, 1, 2, 3, 0, 255]);

describe("sendGrpc", () => {
  test("delivers the body as is, with headers from the configuration and the environment as metadata", async () => {
    behaviour = "ok";
    received.length = 0;
    process.env.OTEL_EXPORTER_OTLP_TRACES_HEADERS = "x-from-env=e1";
    try {
      const r = await sendGrpc(endpoint, body, { "X-Tenant": "team-a" }, 5000);
      expect(r).toEqual({ ok: true });
    } finally {
      delete process.env.OTEL_EXPORTER_OTLP_TRACES_HEADERS;
    }
    expect(received).toHaveLength(1);
    expect([...received[0].body]).toEqual([...body]);
    expect(received[0].metadata["x-tenant"]).toBe("team-a");
    expect(received[0].metadata["x-from-env"]).toBe("e1");
  });

  test("a server that never answers is cut at the timeout, as a retryable failure", async () => {
    behaviour = "hang";
    const t0 = Date.now();
    const r = await sendGrpc(endpoint, body, {}, 300);
    expect(r.ok).toBe(false);
    expect(r.permanent).toBe(false);
    expect(r.error).toMatch(/DEADLINE_EXCEEDED|deadline/i);
    expect(Date.now() - t0).toBeLessThan(5000);
  });

  test("UNAVAILABLE is retryable, UNAUTHENTICATED is not; a closed port is UNAVAILABLE", async () => {
    behaviour = "unavailable";
    const a = await sendGrpc(endpoint, body, {}, 3000);
    expect(a).toMatchObject({ ok: false, permanent: false });
    expect(a.error).toContain("overloaded");
    behaviour = "unauthenticated";
    const b = await sendGrpc(endpoint, body, {}, 3000);
    expect(b).toMatchObject({ ok: false, permanent: true });
    const closed = await sendGrpc("http://127.0.0.1:1", body, {}, 3000);
    expect(closed).toMatchObject({ ok: false, permanent: false });
    expect(closed.error).toMatch(/UNAVAILABLE/);
  });
});
