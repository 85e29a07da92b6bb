import { randomFillSync } from "node:crypto";

/**
 * Request headers a backend receives from the gateway: the caller's token (the backends enforce
 * identity themselves), the request id, and W3C trace context. Nothing else crosses: a client
 * cannot set internal metadata on a backend call through the gateway.
 */
export const forwardedHeaderNames = ["authorization", "x-request-id", "traceparent", "tracestate", "baggage"] as const;

/** The metadata of a backend call made for a client request with `headers`. */
export function forwardedHeaders(headers: { get(name: string): string | null }): Headers {
  const out = new Headers();
  for (const name of forwardedHeaderNames) {
    const value = headers.get(name);
    if (value !== null) out.set(name, value);
  }
  return out;
}

/**
 * Random bytes from a pool refilled 4 KiB at a time: a request id and a trace context took two
 * calls into the system's random generator per request (~1.5% of the gateway's CPU under load).
 */
const randomPool = Buffer.alloc(4_096);
let randomUsed = randomPool.length;
function randomSlice(length: number): Buffer {
  if (randomUsed + length > randomPool.length) {
    randomFillSync(randomPool);
    randomUsed = 0;
  }
  return randomPool.subarray(randomUsed, (randomUsed += length));
}

const traceparentPattern = /^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;

/** A valid incoming `traceparent`, or a new root one (sampled) so the backends' logs correlate. */
export function traceparentOf(incoming: string | undefined): string {
  if (incoming !== undefined && traceparentPattern.test(incoming) && !/^[0-9a-f]{2}-0{32}-/.test(incoming)) return incoming;
  return `00-${randomSlice(16).toString("hex")}-${randomSlice(8).toString("hex")}-01`;
}

const requestIdPattern = /^[A-Za-z0-9._:-]{1,128}$/;

/** The client's `x-request-id` when it is a sane token, else a new one. */
export function requestIdOf(incoming: string | undefined): string {
  return incoming !== undefined && requestIdPattern.test(incoming) ? incoming : randomSlice(12).toString("base64url");
}

/** Response headers and trailers that belong to the protocol, not to the application: never copied from a backend. */
const protocolHeader = /^(:|content-type$|content-length$|content-encoding$|grpc-|connect-|te$|trailer$|transfer-encoding$|date$|connection$|keep-alive$)/;

/** Copies a backend's application headers (such as `hft-reason`) onto the client's response. */
export function copyApplicationHeaders(from: Headers, to: Headers): void {
  from.forEach((value, name) => {
    if (!protocolHeader.test(name)) to.set(name, value);
  });
}
