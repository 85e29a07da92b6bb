import type * as http from "node:http";
import type * as http2 from "node:http2";
import { Code, ConnectError } from "@connectrpc/connect";
import { GatewayError, codeName, httpStatusOf } from "./gateway-error.js";

/** A request on either protocol of the one port (HTTP/1.1, or HTTP/2 through the compatibility API). */
export type HttpRequest = http.IncomingMessage | http2.Http2ServerRequest;
export type HttpResponse = http.ServerResponse | http2.Http2ServerResponse;

/** The JSON error body of REST and probe answers: Connect's error shape plus the stable reason. */
export interface ErrorBody {
  readonly code: string;
  readonly message: string;
  readonly details: readonly { type: string; value: string; debug?: unknown }[];
  readonly reason?: string;
}

/** The HTTP status, headers and body that answer a failure; anything not ours is INTERNAL without detail. */
export function errorAnswer(error: unknown): { status: number; headers: Record<string, string>; body: ErrorBody } {
  if (error instanceof GatewayError) {
    return { status: error.httpStatus ?? httpStatusOf(error.code), headers: { ...error.headers, "hft-reason": error.reason }, body: { code: codeName(error.code), message: error.message, details: [], reason: error.reason } };
  }
  const connect = error instanceof ConnectError ? error : new ConnectError("internal error in the gateway; it has been logged", Code.Internal);
  const reason = connect.metadata.get("hft-reason") ?? undefined;
  const details = connect.details.map((detail) =>
    "desc" in detail
      ? { type: detail.desc.typeName, value: "" }
      : { type: detail.type, value: Buffer.from(detail.value).toString("base64").replace(/=+$/, ""), ...(detail.debug !== undefined ? { debug: detail.debug } : {}) },
  );
  const headers: Record<string, string> = reason ? { "hft-reason": reason } : {};
  return { status: httpStatusOf(connect.code), headers, body: { code: codeName(connect.code), message: connect.rawMessage, details, ...(reason ? { reason } : {}) } };
}

export function writeJson(res: HttpResponse, status: number, body: unknown, headers: Readonly<Record<string, string>> = {}): void {
  const text = JSON.stringify(body);
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
  res.setHeader("content-type", "application/json; charset=utf-8");
  res.setHeader("content-length", Buffer.byteLength(text));
  res.statusCode = status;
  res.end(text);
}

export function writeError(res: HttpResponse, error: unknown, extraHeaders: Readonly<Record<string, string>> = {}): void {
  const answer = errorAnswer(error);
  writeJson(res, answer.status, answer.body, { ...extraHeaders, ...answer.headers });
}

/**
 * Reads the whole body, refusing more than `maxBytes` with 413 (by Content-Length before reading,
 * or as soon as the bytes read pass it).
 */
export async function readBody(req: HttpRequest, maxBytes: number): Promise<Buffer> {
  const tooLarge = () => new GatewayError(Code.ResourceExhausted, "BODY_TOO_LARGE", `the request body is larger than ${maxBytes} bytes`, {}, 413);
  const declared = Number(req.headers["content-length"] ?? "0");
  if (declared > maxBytes) throw tooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) throw tooLarge();
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** The client's address, for rate limits without a token and loopback checks. */
export function peerOf(req: { socket?: { remoteAddress?: string } | null }): string {
  return req.socket?.remoteAddress ?? "unknown";
}

export function isLoopback(address: string): boolean {
  return address === "::1" || address.startsWith("127.") || address.startsWith("::ffff:127.");
}
