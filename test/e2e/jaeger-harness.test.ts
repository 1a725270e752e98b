/**
 * Proves the Jaeger harness (test/helpers/jaeger.ts) against a real Jaeger v2:
 * OTLP/JSON and OTLP/protobuf in over HTTP, read back by trace id (API v3)
 * and by search (service + operation + tag).
 *
 * Not skipped when Go is missing: the e2e suite must run in CI, so a failed
 * Jaeger build fails beforeAll loudly (with the build output).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { SpanKind, SpanStatusCode, TraceFlags } from "@opentelemetry/api";
import { ProtobufTraceSerializer } from "@opentelemetry/otlp-transformer";
import { resourceFromAttributes } from "@opentelemetry/resources";
import type { ReadableSpan } from "@opentelemetry/sdk-trace";
import { buildJaeger, flattenSpans, startJaeger, type FlatSpan, type JaegerHandle } from "../helpers/jaeger.ts";

// A cold build of Jaeger takes many minutes on a 2-core machine.
const BUILD_TIMEOUT_MS = 40 * 60_000;

const hex = (bytes: number) => randomBytes(bytes).toString("hex");
const SERVICE = `jaeger-harness-e2e-${hex(3)}`;

let jaeger: JaegerHandle;

beforeAll(async () => {
  await buildJaeger();
  jaeger = await startJaeger();
}, BUILD_TIMEOUT_MS);

afterAll(async () => {
  await jaeger?.stop();
});

async function postOtlp(body: string | Uint8Array<ArrayBuffer>, contentType: string): Promise<void> {
  const res = await fetch(`${jaeger.otlpHttpUrl}/v1/traces`, {
    method: "POST",
    headers: { "content-type": contentType },
    body,
  });
  const text = await res.text();
  expect({ status: res.status, text }).toMatchObject({ status: 200 });
}

describe("OTLP/JSON in, API v3 and search out", () => {
  const traceId = hex(16);
  const rootId = hex(8);
  const childId = hex(8);
  // Real wall-clock times, so the default search window finds them.
  const t0 = BigInt(Date.now() - 5_000) * 1_000_000n + 123n; // odd nanoseconds on purpose
  const rootDur = 3_500_000_007n; // 3.5 s + 7 ns
  const childStart = t0 + 250_000_000n;
  const childDur = 1_000_000_123n; // 1 s + 123 ns
  const eventTime = childStart + 400_000_000n;

  const payload = {
    resourceSpans: [
      {
        resource: {
          attributes: [
            { key: "service.name", value: { stringValue: SERVICE } },
            { key: "deployment.environment", value: { stringValue: "e2e" } },
          ],
        },
        scopeSpans: [
          {
            scope: { name: "startup-tracer.e2e", version: "0.1.0" },
            spans: [
              {
                traceId,
                spanId: rootId,
                name: "vllm.startup",
                kind: 1, // INTERNAL
                startTimeUnixNano: String(t0),
                endTimeUnixNano: String(t0 + rootDur),
                attributes: [
                  { key: "vllm.model", value: { stringValue: "facebook/opt-125m" } },
                  { key: "vllm.tensor_parallel_size", value: { intValue: "2" } },
                  { key: "vllm.gpu_memory_utilization", value: { doubleValue: 0.9 } },
                  { key: "vllm.enforce_eager", value: { boolValue: true } },
                  {
                    key: "vllm.argv",
                    value: { arrayValue: { values: [{ stringValue: "serve" }, { stringValue: "opt-125m" }] } },
                  },
                ],
                status: { code: 1 }, // OK
              },
              {
                traceId,
                spanId: childId,
                parentSpanId: rootId,
                name: "vllm.phase.weights_load",
                kind: 1,
                startTimeUnixNano: String(childStart),
                endTimeUnixNano: String(childStart + childDur),
                attributes: [
                  { key: "vllm.phase", value: { stringValue: "weights_load" } },
                  { key: "vllm.weights.bytes", value: { intValue: "250540032" } },
                  { key: "vllm.weights.gib", value: { doubleValue: 0.2333 } },
                  { key: "vllm.phase.predicted", value: { boolValue: false } },
                ],
                events: [
                  {
                    timeUnixNano: String(eventTime),
                    name: "shard.loaded",
                    attributes: [{ key: "shard", value: { intValue: "1" } }],
                  },
                ],
                status: {},
              },
            ],
          },
        ],
      },
    ],
  };

  test("POST /v1/traces accepts the JSON payload", async () => {
    await postOtlp(JSON.stringify(payload), "application/json");
  });

  test("getTrace reads it back: tree, names, attributes, durations", async () => {
    const trace = await jaeger.waitForTrace(traceId, { minSpans: 2, timeoutMs: 10_000 });
    const spans = flattenSpans(trace);
    expect(spans.map((s) => s.name)).toEqual(["vllm.startup", "vllm.phase.weights_load"]);
    const [root, child] = spans as [FlatSpan, FlatSpan];

    // Tree
    expect(root.traceId).toBe(traceId);
    expect(child.traceId).toBe(traceId);
    expect(root.spanId).toBe(rootId);
    expect(root.parentSpanId).toBe("");
    expect(child.spanId).toBe(childId);
    expect(child.parentSpanId).toBe(rootId);

    // Resource and scope
    expect(root.serviceName).toBe(SERVICE);
    expect(root.resourceAttributes["deployment.environment"]).toBe("e2e");
    expect(root.scopeName).toBe("startup-tracer.e2e");

    // Attributes of several types survive
    expect(root.attributes).toEqual({
      "vllm.model": "facebook/opt-125m",
      "vllm.tensor_parallel_size": 2,
      "vllm.gpu_memory_utilization": 0.9,
      "vllm.enforce_eager": true,
      "vllm.argv": ["serve", "opt-125m"],
    });
    expect(child.attributes).toEqual({
      "vllm.phase": "weights_load",
      "vllm.weights.bytes": 250540032,
      "vllm.weights.gib": 0.2333,
      "vllm.phase.predicted": false,
    });
    expect(child.events).toEqual([{ name: "shard.loaded", timeUnixNano: eventTime, attributes: { shard: 1 } }]);

    // Times, to the nanosecond
    expect(root.startTimeUnixNano).toBe(t0);
    expect(root.durationNs).toBe(rootDur);
    expect(child.startTimeUnixNano).toBe(childStart);
    expect(child.durationNs).toBe(childDur);
    expect(child.durationMs).toBeCloseTo(1000.000123, 6);
  });

  test("findTraces by service + operation + tag finds exactly this trace", async () => {
    const found = await jaeger.findTraces({
      service: SERVICE,
      operation: "vllm.phase.weights_load",
      tags: { "vllm.phase": "weights_load" },
      lookbackMinutes: 15,
    });
    expect(found.map((t) => t.traceId)).toEqual([traceId]);
    expect(flattenSpans(found[0]!).map((s) => s.name)).toEqual(["vllm.startup", "vllm.phase.weights_load"]);
  });

  test("findTraces matches typed attributes by their string form, and filters misses out", async () => {
    const byInt = await jaeger.findTraces({ service: SERVICE, tags: { "vllm.tensor_parallel_size": "2" } });
    expect(byInt.map((t) => t.traceId)).toContain(traceId);
    const byResource = await jaeger.findTraces({ service: SERVICE, tags: { "deployment.environment": "e2e" } });
    expect(byResource.map((t) => t.traceId)).toContain(traceId);

    expect(await jaeger.findTraces({ service: SERVICE, tags: { "vllm.phase": "nope" } })).toEqual([]);
    expect(await jaeger.findTraces({ service: SERVICE, operation: "no.such.operation" })).toEqual([]);
    expect(await jaeger.findTraces({ service: `${SERVICE}-other` })).toEqual([]);
  });

  test("getTrace of an unknown id is null", async () => {
    expect(await jaeger.getTrace(hex(16))).toBeNull();
  });
});

describe("OTLP/protobuf in", () => {
  test("a ProtobufTraceSerializer payload round-trips", async () => {
    const traceId = hex(16);
    const rootId = hex(8);
    const childId = hex(8);
    const resource = resourceFromAttributes({ "service.name": SERVICE, "host.name": "e2e-host" });
    const scope = { name: "startup-tracer.e2e.proto", version: "0.1.0" };
    const nowMs = Date.now() - 3_000;
    const hr = (ms: number, extraNs = 0): [number, number] => [
      Math.floor(ms / 1000),
      (ms % 1000) * 1_000_000 + extraNs,
    ];
    const span = (p: {
      id: string;
      parent?: string;
      name: string;
      startMs: number;
      durMs: number;
      attributes: ReadableSpan["attributes"];
    }): ReadableSpan => ({
      name: p.name,
      kind: p.parent ? SpanKind.INTERNAL : SpanKind.SERVER,
      spanContext: () => ({ traceId, spanId: p.id, traceFlags: TraceFlags.SAMPLED }),
      parentSpanContext: p.parent ? { traceId, spanId: p.parent, traceFlags: TraceFlags.SAMPLED } : undefined,
      startTime: hr(p.startMs),
      endTime: hr(p.startMs + p.durMs),
      duration: hr(p.durMs),
      status: { code: SpanStatusCode.UNSET },
      attributes: p.attributes,
      links: [],
      events: [],
      ended: true,
      resource,
      instrumentationScope: scope,
      droppedAttributesCount: 0,
      droppedEventsCount: 0,
      droppedLinksCount: 0,
    });
    const spans = [
      span({ id: rootId, name: "proto.root", startMs: nowMs, durMs: 2000, attributes: { "a.str": "x", "a.int": 7 } }),
      span({
        id: childId,
        parent: rootId,
        name: "proto.child",
        startMs: nowMs + 500,
        durMs: 750,
        attributes: { "b.double": 1.5, "b.bool": true, "b.list": [1, 2, 3] },
      }),
    ];
    const body = ProtobufTraceSerializer.serializeRequest(spans);
    expect(body).toBeInstanceOf(Uint8Array);
    await postOtlp(new Uint8Array(body!), "application/x-protobuf");

    const got = flattenSpans(await jaeger.waitForTrace(traceId, { minSpans: 2 }));
    expect(got.map((s) => [s.name, s.spanId, s.parentSpanId])).toEqual([
      ["proto.root", rootId, ""],
      ["proto.child", childId, rootId],
    ]);
    expect(got[0]!.serviceName).toBe(SERVICE);
    expect(got[0]!.resourceAttributes["host.name"]).toBe("e2e-host");
    expect(got[0]!.attributes).toEqual({ "a.str": "x", "a.int": 7 });
    expect(got[1]!.attributes).toEqual({ "b.double": 1.5, "b.bool": true, "b.list": [1, 2, 3] });
    expect(got[0]!.durationNs).toBe(2_000_000_000n);
    expect(got[1]!.durationNs).toBe(750_000_000n);
    expect(got[1]!.startTimeUnixNano - got[0]!.startTimeUnixNano).toBe(500_000_000n);

    const found = await jaeger.findTraces({ service: SERVICE, operation: "proto.child", tags: { "b.bool": "true" } });
    expect(found.map((t) => t.traceId)).toEqual([traceId]);
  });
});

describe("lifecycle", () => {
  test("listeners are on 127.0.0.1 only, and stop() ends the process and removes its dir", async () => {
    const other = await startJaeger();
    try {
      expect(other.otlpHttpUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(other.queryUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(other.otlpHttpUrl).not.toBe(jaeger.otlpHttpUrl);
      // No listener in the config binds anything but loopback.
      const endpoints = [...other.config.matchAll(/endpoint:\s*(\S+)/g)].map((m) => m[1]);
      expect(endpoints.length).toBe(4); // OTLP HTTP and gRPC, query HTTP and gRPC
      expect(other.otlpGrpcUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      for (const e of endpoints) expect(e).toMatch(/^127\.0\.0\.1:\d+$/);
      expect(existsSync(other.workDir)).toBe(true);
    } finally {
      await other.stop();
    }
    expect(() => process.kill(other.pid, 0)).toThrow();
    expect(existsSync(other.workDir)).toBe(false);
    await other.stop(); // idempotent
    // The first instance is unaffected.
    expect(await jaeger.getTrace(hex(16))).toBeNull();
  });

  test("stop() falls back to SIGKILL when SIGTERM is not acted on", async () => {
    const stuck = await startJaeger();
    // A stopped process leaves SIGTERM pending; only SIGKILL ends it.
    process.kill(stuck.pid, "SIGSTOP");
    const t = performance.now();
    await stuck.stop(300);
    expect(performance.now() - t).toBeGreaterThanOrEqual(290);
    expect(() => process.kill(stuck.pid, 0)).toThrow();
    expect(existsSync(stuck.workDir)).toBe(false);
  });
});
