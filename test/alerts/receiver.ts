// A real HTTP receiver on 127.0.0.1 for the alert sink tests.
export interface Received {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: unknown;
  at: number;
}

export interface Receiver {
  url: string;
  received: Received[];
  /** Answer the next n requests with this status (e.g. 503), then 200. */
  failNext(n: number, status?: number): void;
  /** Hold the next n requests for ms before answering 200. */
  stallNext(n: number, ms: number): void;
  waitFor(n: number, timeoutMs?: number): Promise<Received[]>;
  stop(): Promise<void>;
}

function headerObject(h: Headers): Record<string, string> {
  const out: Record<string, string> = {};
  h.forEach((v, k) => {
    out[k] = v;
  });
  return out;
}

export function startReceiver(): Receiver {
  const received: Received[] = [];
  let fail = 0, failStatus = 503, stall = 0, stallMs = 0;
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    reusePort: false,
    async fetch(req) {
      const text = await req.text();
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        /* keep text */
      }
      received.push({
        method: req.method,
        path: new URL(req.url).pathname,
        headers: headerObject(req.headers),
        body,
        at: Date.now(),
      });
      if (stall > 0) {
        stall--;
        await Bun.sleep(stallMs);
      }
      if (fail > 0) {
        fail--;
        return new Response("no", { status: failStatus });
      }
      return new Response("ok");
    },
  });
  return {
    url: `http://127.0.0.1:${server.port}`,
    received,
    failNext(n, status = 503) {
      fail = n;
      failStatus = status;
    },
    stallNext(n, ms) {
      stall = n;
      stallMs = ms;
    },
    async waitFor(n, timeoutMs = 5000) {
      const end = Date.now() + timeoutMs;
      while (received.length < n) {
        if (Date.now() > end) throw new Error(`receiver got ${received.length} of ${n} requests`);
        await Bun.sleep(10);
      }
      return received;
    },
    stop: () => server.stop(true),
  };
}
