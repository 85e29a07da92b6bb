import { cors as connectCors } from "@connectrpc/connect";
import type { HttpRequest, HttpResponse } from "./http-io.js";

export interface CorsOptions {
  /** Allowed origins, exactly as browsers send them (`https://app.example.com`); `*` allows any. */
  readonly origins: readonly string[];
}

/** Headers a browser may send cross-origin: Connect's and gRPC-Web's, plus the gateway's own. */
const allowedHeaders = [...new Set([...connectCors.allowedHeaders, "Authorization", "X-Request-Id", "X-Timeout-Ms", "Traceparent", "Tracestate"])].join(", ");
/** Headers a browser lets a cross-origin page read. */
const exposedHeaders = [
  ...new Set([...connectCors.exposedHeaders, "X-Request-Id", "Hft-Reason", "RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset", "Retry-After"]),
].join(", ");
const allowedMethods = "GET, POST, PUT, PATCH, DELETE";

export type CorsOutcome = "continue" | "answered" | "refused";

/**
 * CORS from an allow-list. Same-origin requests (Origin matching the Host, as from /docs) and
 * requests without an Origin (curl, servers) pass untouched. An allowed origin gets the CORS
 * headers, and its preflight a 204; an origin not on the list is refused with 403 — the preflight
 * and the request itself, so a page the list does not name cannot even make the gateway act.
 */
export function createCors(options: CorsOptions) {
  const anyOrigin = options.origins.includes("*");
  const allowed = new Set(options.origins);
  return function applyCors(req: HttpRequest, res: HttpResponse): CorsOutcome {
    const origin = req.headers.origin;
    if (origin === undefined) return "continue";
    const host = req.headers.host ?? req.headers[":authority"];
    let sameOrigin: boolean;
    try {
      sameOrigin = new URL(origin).host === host;
    } catch {
      sameOrigin = false;
    }
    if (sameOrigin) return "continue";
    res.setHeader("vary", "Origin");
    if (!anyOrigin && !allowed.has(origin)) return "refused";
    res.setHeader("access-control-allow-origin", origin);
    res.setHeader("access-control-expose-headers", exposedHeaders);
    if (req.method === "OPTIONS" && req.headers["access-control-request-method"] !== undefined) {
      res.setHeader("access-control-allow-methods", allowedMethods);
      res.setHeader("access-control-allow-headers", allowedHeaders);
      res.setHeader("access-control-max-age", "7200");
      res.statusCode = 204;
      res.end();
      return "answered";
    }
    return "continue";
  };
}
