// The tracer's HTTP API: health and readiness probes, the live status JSON,
// Prometheus metrics and the live waterfall page. Hono app served by Bun.serve.
//
// Security: by default the API listens on loopback only. A non-loopback listen
// address is refused unless an API token is configured (then every route but
// /healthz and /readyz needs `Authorization: Bearer <token>`) or the caller
// explicitly opts into an insecure listener.

import { createHash, timingSafeEqual } from "node:crypto";
import { Hono } from "hono";
import type { StartupSnapshot } from "../state/types.ts";
import { PROMETHEUS_CONTENT_TYPE } from "./metrics.ts";
import { PAGE_CSP, renderPage } from "./page.ts";

export interface ApiServerOptions {
  /** "127.0.0.1:9464", "[::1]:0", ":9464" (host defaults to 127.0.0.1), "localhost:9464". */
  listen: string;
  getSnapshot: () => StartupSnapshot;
  /** Prometheus text exposition (see renderStartupMetrics). */
  metrics: () => string;
  apiToken?: string;
  /** Allow a non-loopback address without a token. */
  insecureListen?: boolean;
}

export interface ApiServer {
  /** Base URL, e.g. "http://127.0.0.1:9464" or "http://[::1]:40123". */
  url: string;
  port: number;
  stop(): Promise<void>;
}

export const DEFAULT_LISTEN_HOST = "127.0.0.1";

export interface ListenAddress {
  /** Host without brackets ("::1", "127.0.0.1", "localhost", "0.0.0.0"). */
  host: string;
  port: number;
}

/** Parse a --listen value. Throws a one-line Error naming the value on bad syntax. */
export function parseListen(listen: string): ListenAddress {
  const bad = (why: string) => new Error(`invalid listen address ${JSON.stringify(listen)}: ${why}`);
  const s = listen.trim();
  let host: string;
  let portStr: string;
  if (/^\d+$/.test(s)) {
    host = DEFAULT_LISTEN_HOST;
    portStr = s;
  } else if (s.startsWith("[")) {
    const m = /^\[([0-9a-fA-F:.%a-zA-Z]+)\]:(\d+)$/.exec(s);
    if (!m) throw bad('expected "[ipv6]:port"');
    host = m[1]!;
    portStr = m[2]!;
  } else {
    const i = s.lastIndexOf(":");
    if (i < 0) throw bad('expected "host:port" or ":port"');
    host = s.slice(0, i);
    portStr = s.slice(i + 1);
    if (host.includes(":")) throw bad('IPv6 addresses need brackets: "[::1]:9464"');
    if (host === "") host = DEFAULT_LISTEN_HOST;
    if (!/^[a-zA-Z0-9.-]+$/.test(host)) throw bad("bad host");
  }
  if (!/^\d+$/.test(portStr)) throw bad("port must be a number");
  const port = Number(portStr);
  if (port > 65535) throw bad("port must be 0..65535");
  return { host, port };
}

/** True for 127.0.0.0/8, ::1 (and its IPv4-mapped/expanded forms) and localhost. */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, "");
  if (h === "localhost" || h.endsWith(".localhost")) return true;
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(h.replace(/^::ffff:/, ""));
  if (v4) return v4.slice(1).every((o) => Number(o) <= 255) && v4[1] === "127";
  if (h.includes(":")) {
    // Expand "::" and compare with 0:0:0:0:0:0:0:1.
    const [head, tail, ...rest] = h.split("::");
    if (rest.length) return false;
    const a = head ? head.split(":") : [];
    const b = tail !== undefined ? (tail ? tail.split(":") : []) : [];
    if (tail === undefined && a.length !== 8) return false;
    const groups = [...a, ...Array(Math.max(0, 8 - a.length - b.length)).fill("0"), ...b];
    if (groups.length !== 8 || !groups.every((g) => /^[0-9a-f]{1,4}$/.test(g))) return false;
    return groups.every((g, i) => parseInt(g, 16) === (i === 7 ? 1 : 0));
  }
  return false;
}

function digest(s: string): Buffer {
  return createHash("sha256").update(s, "utf8").digest();
}

/** Constant-time check of an Authorization header against the token. */
export function bearerMatches(header: string | undefined | null, token: string): boolean {
  const m = /^Bearer[ \t]+(.+)$/i.exec(header ?? "");
  // Compare fixed-length digests, so neither the length nor the content leaks.
  const given = digest(m ? m[1]!.trim() : "");
  const ok = timingSafeEqual(given, digest(token));
  return ok && m !== null;
}

function readyBody(s: StartupSnapshot) {
  return {
    ready: s.outcome === "ready",
    outcome: s.outcome,
    current_phase: s.current_phase,
    elapsed_s: s.elapsed_s,
    eta_s: s.eta_s,
  };
}

/** The Hono app (exported for in-process tests). */
export function createApiApp(opts: Pick<ApiServerOptions, "getSnapshot" | "metrics" | "apiToken">): Hono {
  const app = new Hono();
  const token = opts.apiToken;

  app.use("*", async (c, next) => {
    c.header("Cache-Control", "no-store");
    c.header("X-Content-Type-Options", "nosniff");
    const path = c.req.path;
    if (token !== undefined && path !== "/healthz" && path !== "/readyz") {
      if (!bearerMatches(c.req.header("Authorization"), token)) {
        c.header("WWW-Authenticate", 'Bearer realm="startup-tracer"');
        return c.text("unauthorized\n", 401);
      }
    }
    await next();
  });

  app.get("/healthz", (c) => c.text("ok\n"));

  app.get("/readyz", (c) => {
    const body = readyBody(opts.getSnapshot());
    return c.json(body, body.ready ? 200 : 503);
  });

  app.get("/status", (c) => c.json(opts.getSnapshot()));

  app.get("/metrics", (c) => {
    return c.body(opts.metrics(), 200, { "Content-Type": PROMETHEUS_CONTENT_TYPE });
  });

  app.get("/", (c) => {
    c.header("Content-Security-Policy", PAGE_CSP);
    c.header("Referrer-Policy", "no-referrer");
    return c.html(renderPage());
  });

  app.notFound((c) => c.text("not found\n", 404));
  app.onError((err, c) => {
    // No details: the error text could carry anything; the daemon logs its own errors.
    void err;
    return c.text("internal error\n", 500);
  });
  return app;
}

/** Start the API. Rejects with a one-line Error for a refused or unusable address. */
export async function startApiServer(opts: ApiServerOptions): Promise<ApiServer> {
  const { host, port } = parseListen(opts.listen);
  if (opts.apiToken !== undefined && opts.apiToken.trim() === "") {
    throw new Error("the API token is empty");
  }
  if (!isLoopbackHost(host) && opts.apiToken === undefined && !opts.insecureListen) {
    throw new Error(
      `refusing to listen on non-loopback address ${opts.listen}: set an API token or allow an insecure listener explicitly`,
    );
  }
  const app = createApiApp(opts);
  let server: ReturnType<typeof Bun.serve>;
  try {
    // reusePort: false explicitly, so a port already taken (say by a second tracer)
    // fails here instead of silently sharing connections with the other listener.
    server = Bun.serve({ hostname: host, port, fetch: app.fetch, development: false, reusePort: false });
  } catch (e) {
    const code = (e as { code?: string }).code;
    const msg = String((e as Error).message ?? e).split("\n")[0];
    throw new Error(`cannot listen on ${opts.listen}: ${code ?? msg}`);
  }
  const actualPort = server.port ?? port;
  const urlHost = host.includes(":") ? `[${host}]` : host;
  let stopped: Promise<void> | null = null;
  return {
    url: `http://${urlHost}:${actualPort}`,
    port: actualPort,
    stop() {
      stopped ??= server.stop(true).then(() => undefined);
      return stopped;
    },
  };
}
