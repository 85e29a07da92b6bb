import { type DescMethodServerStreaming, type DescMethodUnary, type JsonValue, toJson } from "@bufbuild/protobuf";
import { traceExemplar } from "@hft/otel";
import { Code } from "@connectrpc/connect";
import { type Logger, violationsOf } from "@hft/service-kit";
import type { Admission } from "./admission.js";
import type { BackendRoutes } from "./backends.js";
import { copyApplicationHeaders, forwardedHeaders } from "./forwarded-metadata.js";
import { GatewayError, codeName } from "./gateway-error.js";
import { type HttpRequest, type HttpResponse, errorAnswer, peerOf, readBody, writeError, writeJson } from "./http-io.js";
import type { GatewayMetrics } from "./metrics.js";
import { restRequestOf } from "./rest-request.js";
import type { RestRouter } from "./rest-routes.js";
import { clientErrorOf, unaryDeadline } from "./rpc-proxy.js";

export interface RestHandlerOptions {
  readonly router: RestRouter;
  readonly backends: BackendRoutes;
  readonly admit: Admission;
  readonly metrics: GatewayMetrics;
  readonly logger: Logger;
  readonly maxBodyBytes: number;
  readonly maxTimeoutMs: number;
}

/** Proto3 JSON as REST clients get it: every field present, defaults included, names in lowerCamelCase. */
const jsonWriteOptions = { alwaysEmitImplicit: true } as const;

/** The client's deadline: `grpc-timeout`-like `x-timeout-ms` header, if any. */
function clientTimeoutMs(req: HttpRequest): number | undefined {
  const raw = req.headers["x-timeout-ms"];
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0) throw new GatewayError(Code.InvalidArgument, "INVALID_TIMEOUT", `x-timeout-ms must be a positive whole number of milliseconds, got "${String(raw)}"`);
  return value;
}

function headersOf(req: HttpRequest): { get(name: string): string | null } {
  return {
    get(name) {
      const value = req.headers[name];
      return value === undefined ? null : Array.isArray(value) ? value.join(", ") : value;
    },
  };
}

async function parseBody(req: HttpRequest, maxBytes: number): Promise<JsonValue | undefined> {
  const raw = await readBody(req, maxBytes);
  if (raw.length === 0) return undefined;
  const type = String(req.headers["content-type"] ?? "");
  if (!/^application\/json\b/i.test(type)) {
    throw new GatewayError(Code.InvalidArgument, "UNSUPPORTED_MEDIA_TYPE", `the request body must be application/json, got "${type || "no content type"}"`, {}, 415);
  }
  try {
    return JSON.parse(raw.toString("utf8")) as JsonValue;
  } catch (error) {
    throw new GatewayError(Code.InvalidArgument, "MALFORMED_JSON", `malformed JSON body: ${(error as Error).message}`);
  }
}

/**
 * Serves a REST request whose path is under the REST routes: 404 for no route, 405 with Allow
 * for a known path with another method, else the RPC built from path, query and body, forwarded
 * to its backend, answered as proto3 JSON (or as a stream of JSON messages for server streams).
 */
export function createRestHandler(options: RestHandlerOptions) {
  const { router, metrics, logger } = options;
  return async function handleRest(req: HttpRequest, res: HttpResponse, url: URL): Promise<void> {
    const match = router.match(req.method ?? "GET", url.pathname);
    if (match.kind === "not-found") {
      writeError(res, new GatewayError(Code.NotFound, "ROUTE_NOT_FOUND", `no route for ${req.method} ${url.pathname}; the routes are listed at /openapi.json`, {}, 404));
      return;
    }
    if (match.kind === "method-not-allowed") {
      const allow = match.allow.join(", ");
      writeError(res, new GatewayError(Code.InvalidArgument, "METHOD_NOT_ALLOWED", `${req.method} is not allowed on ${url.pathname}; allowed: ${allow}`, { allow }, 405));
      return;
    }
    const { route, variables } = match;
    const method = route.method;
    const rpc = `${method.parent.typeName}/${method.name}`;
    const started = performance.now();
    let code = "ok";
    let rateHeaders: Readonly<Record<string, string>> = {};
    try {
      const caller = await options.admit({ authorization: headersOf(req).get("authorization") ?? undefined, peer: peerOf(req), method });
      rateHeaders = caller.rateHeaders;
      const body = await parseBody(req, options.maxBodyBytes);
      const request = restRequestOf(route as never, variables, url.searchParams, body);
      const transport = options.backends.backendOf(method.parent).transport;
      const headers = forwardedHeaders(headersOf(req));
      const controller = new AbortController();
      // Only a client gone before the answer cancels the backend call (an abort costs an exception).
      res.once("close", () => {
        if (!res.writableFinished) controller.abort();
      });
      if (method.methodKind === "unary") {
        const response = await transport.unary(method as DescMethodUnary, controller.signal, unaryDeadline(clientTimeoutMs(req), options.maxTimeoutMs), headers, request);
        const responseHeaders = new Headers(rateHeaders);
        copyApplicationHeaders(response.header, responseHeaders);
        copyApplicationHeaders(response.trailer, responseHeaders);
        writeJson(res, 200, toJson(method.output, response.message, jsonWriteOptions), Object.fromEntries(responseHeaders));
      } else if (method.methodKind === "server_streaming") {
        const problem = violationsOf(method.input, request);
        if (problem) throw new GatewayError(Code.InvalidArgument, "INVALID_REQUEST", problem);
        await streamOut(req, res, method as DescMethodServerStreaming, controller.signal, clientTimeoutMs(req), headers, request, rateHeaders, transport);
      } else {
        throw new GatewayError(Code.Unimplemented, "STREAMING_OVER_REST", `${rpc} streams requests; call it over gRPC or Connect on HTTP/2`);
      }
    } catch (error) {
      const clientError = error instanceof GatewayError ? error : clientErrorOf(error, logger);
      code = codeName(clientError.code);
      if (res.headersSent) {
        res.end();
      } else {
        const extra: Record<string, string> = { ...rateHeaders };
        if (error instanceof GatewayError && error.httpStatus === 413) extra.connection = "close";
        writeError(res, clientError, extra);
      }
    } finally {
      metrics.rpcDuration.observe({ labels: { rpc, protocol: "rest", code }, value: (performance.now() - started) / 1000, exemplarLabels: traceExemplar() });
    }
  };

  async function streamOut(
    req: HttpRequest,
    res: HttpResponse,
    method: DescMethodServerStreaming,
    signal: AbortSignal,
    timeoutMs: number | undefined,
    headers: Headers,
    request: unknown,
    rateHeaders: Readonly<Record<string, string>>,
    transport: ReturnType<BackendRoutes["backendOf"]>["transport"],
  ): Promise<void> {
    const sse = /\btext\/event-stream\b/.test(String(req.headers.accept ?? ""));
    async function* one() {
      yield request as never;
    }
    // The status goes out at once: a backend sends its response headers only with its first
    // message, and a live stream may have none for a long time. A failure after this point (the
    // backend refusing the call included) is the stream's last item.
    for (const [name, value] of Object.entries(rateHeaders)) res.setHeader(name, value);
    res.setHeader("content-type", sse ? "text/event-stream; charset=utf-8" : "application/x-ndjson; charset=utf-8");
    res.setHeader("cache-control", "no-store");
    res.statusCode = 200;
    (res as { flushHeaders(): void }).flushHeaders();
    const write = async (text: string) => {
      if (!(res as { write(text: string): boolean }).write(text)) await new Promise<void>((resolve) => {
          const emitter = res as NodeJS.EventEmitter;
          emitter.once("drain", resolve);
          emitter.once("close", resolve);
        });
    };
    try {
      const response = await transport.stream(method, signal, timeoutMs, headers, one());
      for await (const message of response.message) {
        const json = JSON.stringify(toJson(method.output, message, jsonWriteOptions));
        await write(sse ? `data: ${json}\n\n` : `${json}\n`);
        if (signal.aborted) return;
      }
    } catch (error) {
      if (signal.aborted) return;
      // The status is sent already: the error is the stream's last item.
      const { body } = errorAnswer(clientErrorOf(error, logger));
      await write(sse ? `event: error\ndata: ${JSON.stringify(body)}\n\n` : `${JSON.stringify({ error: body })}\n`);
    }
    res.end();
  }
}
