import type { DescMethod, DescMethodBiDiStreaming, DescMethodClientStreaming, DescMethodServerStreaming, DescMethodUnary, DescService, Message } from "@bufbuild/protobuf";
import { EmptySchema } from "@bufbuild/protobuf/wkt";
import { traceExemplar } from "@hft/otel";
import { Code, ConnectError, type ConnectRouter, type HandlerContext, createContextKey } from "@connectrpc/connect";
import type { Logger } from "@hft/service-kit";
import type { Admission, Admitted } from "./admission.js";
import type { BackendRoutes } from "./backends.js";
import { copyApplicationHeaders, forwardedHeaders } from "./forwarded-metadata.js";
import { GatewayError, codeName } from "./gateway-error.js";
import type { GatewayMetrics } from "./metrics.js";

/** The client's address, set per request by the HTTP server; rate limits fall back to it. */
export const peerAddressKey = createContextKey<string>("unknown", { description: "client address" });

export interface RpcProxyOptions {
  readonly services: readonly DescService[];
  readonly backends: BackendRoutes;
  readonly admit: Admission;
  readonly metrics: GatewayMetrics;
  readonly logger: Logger;
  /** Deadline given to a unary call whose client set none, and the most a client may ask for. */
  readonly maxTimeoutMs: number;
}

/**
 * A backend failure as the client sees it: the backend's code, message and details untouched, and
 * its application metadata (`hft-reason`); anything that is not a ConnectError is a gateway bug,
 * logged and answered INTERNAL without detail. A call the backend's connection dropped (its HTTP/2
 * stream reset with CANCEL, as when the backend process dies) is UNAVAILABLE, not CANCELED: the
 * client cancelled nothing, and UNAVAILABLE tells it to retry.
 */
export function clientErrorOf(error: unknown, logger: Logger): ConnectError {
  if (error instanceof GatewayError) return error.toConnectError();
  if (error instanceof ConnectError && error.code === Code.Canceled) {
    return new ConnectError(`the backend dropped the call before answering (${error.rawMessage}); it may or may not have been applied: retry`, Code.Unavailable, { "hft-reason": "BACKEND_DROPPED_CALL" });
  }
  if (error instanceof ConnectError) {
    const metadata = new Headers();
    copyApplicationHeaders(error.metadata, metadata);
    // Details pass through as received (type and bytes); Connect serialises them again as they are.
    return new ConnectError(error.rawMessage, error.code, metadata, error.details as ConstructorParameters<typeof ConnectError>[3]);
  }
  logger.error({ err: error }, "forwarding failed");
  return new ConnectError("internal error in the gateway; it has been logged", Code.Internal);
}

/** The deadline of a forwarded unary call: the client's, at most `maxTimeoutMs`. */
export function unaryDeadline(clientMs: number | undefined, maxTimeoutMs: number): number {
  return clientMs === undefined ? maxTimeoutMs : Math.min(clientMs, maxTimeoutMs);
}

/**
 * How the gateway reads the messages it forwards. `typed`: as the method's own messages, which
 * Connect's JSON needs. `bytes`: as google.protobuf.Empty, so that every field stays an unknown
 * field holding its bytes and is written out again exactly as it came: the gateway never looks
 * into a forwarded message, and this spares it decoding each one in full (its strings included)
 * and encoding it again, on the binary protocols (gRPC, gRPC-Web, Connect's application/proto).
 */
export type Forwarding = "typed" | "bytes";

/** `method` with its messages read as `forwarding` says; path, kind and idempotency unchanged. */
export function forwardedMethod<M extends DescMethod>(method: M, forwarding: Forwarding): M {
  if (forwarding === "typed") return method;
  return { ...method, input: EmptySchema, output: EmptySchema, toString: () => method.toString() };
}

async function* once<T>(message: T): AsyncIterable<T> {
  yield message;
}

/**
 * Registers every method of `services` on a Connect router (so Connect, gRPC and gRPC-Web clients
 * reach it), each forwarding to its backend over gRPC: the caller admitted first, metadata and
 * deadline passed on, the backend's answer, stream or error passed back as it came.
 */
export function createRpcRoutes(options: RpcProxyOptions, forwarding: Forwarding = "typed"): (router: ConnectRouter) => void {
  const { metrics, logger } = options;

  async function admitted(ctx: HandlerContext): Promise<Admitted> {
    const caller = await options.admit({ authorization: ctx.requestHeader.get("authorization") ?? undefined, peer: ctx.values.get(peerAddressKey), method: ctx.method });
    for (const [name, value] of Object.entries(caller.rateHeaders)) ctx.responseHeader.set(name, value);
    return caller;
  }

  function observe(method: DescMethod, ctx: HandlerContext, started: number, error: unknown) {
    const code = error === undefined ? "ok" : codeName(error instanceof ConnectError || error instanceof GatewayError ? error.code : Code.Internal);
    metrics.rpcDuration.observe({ labels: { rpc: `${method.parent.typeName}/${method.name}`, protocol: ctx.protocolName, code }, value: (performance.now() - started) / 1000, exemplarLabels: traceExemplar() });
  }

  return function routes(router) {
    for (const service of options.services) {
      const transport = options.backends.backendOf(service).transport;
      for (const method of service.methods.map((m) => forwardedMethod(m, forwarding))) {
        if (method.methodKind === "unary") {
          const unary = method as DescMethodUnary;
          router.rpc(unary, async (request, ctx) => {
            const started = performance.now();
            let failure: unknown;
            try {
              await admitted(ctx);
              const timeoutMs = unaryDeadline(ctx.timeoutMs(), options.maxTimeoutMs);
              const response = await transport.unary(unary, ctx.signal, timeoutMs, forwardedHeaders(ctx.requestHeader), request);
              copyApplicationHeaders(response.header, ctx.responseHeader);
              copyApplicationHeaders(response.trailer, ctx.responseTrailer);
              return response.message;
            } catch (error) {
              failure = clientErrorOf(error, logger);
              throw failure;
            } finally {
              observe(unary, ctx, started, failure);
            }
          });
        } else if (method.methodKind === "client_streaming") {
          const streaming = method as DescMethodClientStreaming;
          router.rpc(streaming, async (requests, ctx) => {
            const started = performance.now();
            let failure: unknown;
            try {
              await admitted(ctx);
              const response = await transport.stream(streaming, ctx.signal, ctx.timeoutMs(), forwardedHeaders(ctx.requestHeader), requests);
              copyApplicationHeaders(response.header, ctx.responseHeader);
              let last: Message | undefined;
              for await (const message of response.message) last = message;
              copyApplicationHeaders(response.trailer, ctx.responseTrailer);
              if (!last) throw new ConnectError(`${streaming.parent.typeName}/${streaming.name}: the backend closed the stream without a response`, Code.Internal);
              return last;
            } catch (error) {
              failure = clientErrorOf(error, logger);
              throw failure;
            } finally {
              observe(streaming, ctx, started, failure);
            }
          });
        } else {
          // Server streams send one request; bidi streams pass the client's requests on as they come.
          const streaming = method as DescMethodServerStreaming | DescMethodBiDiStreaming;
          const forwardStream = async function* (input: Message | AsyncIterable<Message>, ctx: HandlerContext): AsyncIterable<Message> {
            const started = performance.now();
            let failure: unknown;
            try {
              await admitted(ctx);
              const requests = streaming.methodKind === "server_streaming" ? once(input as Message) : (input as AsyncIterable<Message>);
              const response = await transport.stream(streaming, ctx.signal, ctx.timeoutMs(), forwardedHeaders(ctx.requestHeader), requests);
              copyApplicationHeaders(response.header, ctx.responseHeader);
              yield* response.message;
              copyApplicationHeaders(response.trailer, ctx.responseTrailer);
            } catch (error) {
              failure = clientErrorOf(error, logger);
              throw failure;
            } finally {
              observe(streaming, ctx, started, failure);
            }
          };
          router.rpc(streaming, forwardStream as never);
        }
      }
    }
  };
}
