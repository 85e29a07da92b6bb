import type { DescService } from "@bufbuild/protobuf";
import { traceExemplar } from "@hft/otel";
import type { MetricsRegistry } from "@hft/service-kit";
import { Code, createContextValues } from "@connectrpc/connect";
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, context, propagation, trace } from "@opentelemetry/api";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import type { Identity, Logger, TokenVerifier } from "@hft/service-kit";
import { bearerToken } from "@hft/service-kit";
import type { Admission } from "./admission.js";
import type { BackendRoutes } from "./backends.js";
import { consoleRouteOf, createConsoleAssets } from "./console-assets.js";
import { createCors } from "./cors.js";
import { createDocsViewer } from "./docs-viewer.js";
import { requestIdOf, traceparentOf } from "./forwarded-metadata.js";
import { GatewayError } from "./gateway-error.js";
import { type HttpRequest, type HttpResponse, isLoopback, peerOf, writeError, writeJson } from "./http-io.js";
import type { GatewayMetrics } from "./metrics.js";
import type { HealthReport } from "./probes.js";
import { createRestHandler } from "./rest-handler.js";
import type { RestRouter } from "./rest-routes.js";
import { type Forwarding, createRpcRoutes, peerAddressKey } from "./rpc-proxy.js";
import { setSecurityHeaders } from "./security-headers.js";

const tracer = trace.getTracer("hft-gateway");

export interface GatewayHandlerOptions {
  readonly services: readonly DescService[];
  readonly backends: BackendRoutes;
  readonly restRouter: RestRouter;
  readonly admit: Admission;
  readonly verify: TokenVerifier;
  readonly checkHealth: () => Promise<HealthReport>;
  readonly openApi: object;
  readonly registry: MetricsRegistry;
  readonly metrics: GatewayMetrics;
  readonly logger: Logger;
  readonly corsOrigins: readonly string[];
  /** The web console's build, served at / (GATEWAY_CONSOLE_DIR). */
  readonly consoleDir: string;
  readonly maxBodyBytes: number;
  readonly maxTimeoutMs: number;
  /** Aborted on shutdown: streams in progress end (UNAVAILABLE for RPC clients). */
  readonly shutdownSignal: AbortSignal;
}

/**
 * The gateway's request listener, the same for HTTP/1.1 and HTTP/2: request id, trace context and
 * security headers on everything, CORS, then by path: probes, metrics, the API documents, the web
 * console (/, /assets/), REST under /api/, and Connect/gRPC/gRPC-Web for /<service>/<method>.
 * Anything else is a 404.
 */
export function createGatewayHandler(options: GatewayHandlerOptions) {
  const { metrics, logger } = options;
  const cors = createCors({ origins: options.corsOrigins });
  const serveDocs = createDocsViewer();
  const serveConsole = createConsoleAssets(options.consoleDir);
  const handleRest = createRestHandler({ ...options, router: options.restRouter });
  const rpcPaths = new Set(options.services.flatMap((s) => s.methods.map((m) => `/${s.typeName}/${m.name}`)));
  const openApiText = JSON.stringify(options.openApi);
  const fixedPaths = new Set(["/live", "/ready", "/health", "/metrics", "/openapi.json", "/docs", "/ws"]);
  const rpcHandlerOf = (forwarding: Forwarding) =>
    connectNodeAdapter({
      routes: createRpcRoutes(options, forwarding),
      readMaxBytes: options.maxBodyBytes,
      shutdownSignal: options.shutdownSignal,
      contextValues: (req) => createContextValues().set(peerAddressKey, peerOf(req)),
      fallback: (_req, res) => writeError(res as HttpResponse, new GatewayError(Code.NotFound, "ROUTE_NOT_FOUND", `no route for ${_req.method} ${_req.url}; REST routes are under /api/ (see /openapi.json), RPCs at /<package.Service>/<Method>`, {}, 404)),
    });
  // Binary protobuf is forwarded as the bytes it came as; JSON (and Connect's GET) is decoded.
  const typedRpc = rpcHandlerOf("typed");
  const bytesRpc = rpcHandlerOf("bytes");

  /** Whether the caller may see /health's details: a loopback client, or an admin token. */
  async function mayInspect(req: HttpRequest): Promise<boolean> {
    if (isLoopback(peerOf(req))) return true;
    let identity: Identity | undefined;
    try {
      identity = await options.verify(bearerToken(req.headers.authorization));
    } catch {
      return false;
    }
    return identity.role === "admin";
  }

  /** The route as a metrics label: a template or fixed path, never the raw path (bounded cardinality). */
  function labelOf(method: string, path: string): string {
    if (fixedPaths.has(path)) return path;
    if (path.startsWith("/docs/")) return "/docs";
    const consoleRoute = consoleRouteOf(path);
    if (consoleRoute) return consoleRoute;
    if (path.startsWith("/api/")) {
      const match = options.restRouter.match(method, path);
      return match.kind === "found" ? `${match.route.httpMethod} ${match.route.template.source}` : "unmatched";
    }
    return rpcPaths.has(path) ? path : "unmatched";
  }

  async function route(req: HttpRequest, res: HttpResponse, url: URL): Promise<void> {
    const path = url.pathname;
    const get = req.method === "GET" || req.method === "HEAD";
    if (get && path === "/live") {
      writeJson(res, 200, { status: "ok" });
      return;
    }
    if (get && (path === "/ready" || path === "/health")) {
      const report = await options.checkHealth();
      const status = report.status === "ok" ? 200 : 503;
      writeJson(res, status, path === "/health" && (await mayInspect(req)) ? report : { status: report.status }, { "cache-control": "no-store" });
      return;
    }
    if (get && path === "/metrics") {
      const text = await options.registry.metrics();
      res.setHeader("content-type", options.registry.contentType);
      res.statusCode = 200;
      res.end(text);
      return;
    }
    if (get && path === "/openapi.json") {
      res.setHeader("content-type", "application/json; charset=utf-8");
      res.statusCode = 200;
      res.end(openApiText);
      return;
    }
    if (get && (path === "/docs" || path.startsWith("/docs/"))) {
      if (await serveDocs(path, res)) return;
    }
    if (get && consoleRouteOf(path)) {
      if (await serveConsole(path, res)) return;
    }
    if (path.startsWith("/api/")) return handleRest(req, res, url);
    (binaryProtobuf.test(String(req.headers["content-type"] ?? "")) ? bytesRpc : typedRpc)(req, res);
  }

  return function handleRequest(req: HttpRequest, res: HttpResponse): void {
    const started = performance.now();
    const requestId = requestIdOf(headerValue(req.headers["x-request-id"]));
    // Set on the request too: the RPC and REST paths forward them to the backend.
    req.headers["x-request-id"] = requestId;
    res.setHeader("x-request-id", requestId);
    let url: URL;
    try {
      url = new URL(req.url ?? "/", "http://gateway");
    } catch {
      writeError(res, new GatewayError(Code.InvalidArgument, "MALFORMED_URL", `the request target "${req.url}" is not a valid path`));
      return;
    }
    setSecurityHeaders(res, url.pathname);
    const routeLabel = labelOf(req.method ?? "GET", url.pathname);
    // The gateway's span of the request, under the caller's trace when it sent one; the backends
    // continue it through the forwarded traceparent.
    const span = tracer.startSpan(
      routeLabel,
      { kind: SpanKind.SERVER, attributes: { "http.request.method": req.method ?? "GET", "url.path": url.pathname, "http.route": routeLabel, "hft.request_id": requestId } },
      propagation.extract(ROOT_CONTEXT, req.headers),
    );
    const traced = trace.setSpan(ROOT_CONTEXT, span);
    const carrier: Record<string, string> = {};
    propagation.inject(traced, carrier);
    // Without tracing (no SDK) the span carries no context: a new traceparent still correlates the backends' logs.
    req.headers.traceparent = carrier.traceparent ?? traceparentOf(headerValue(req.headers.traceparent));
    res.once("finish", () => {
      metrics.httpDuration.observe({ labels: { route: routeLabel, method: req.method ?? "", status: String(res.statusCode) }, value: (performance.now() - started) / 1000, exemplarLabels: traceExemplar() });
      span.setAttribute("http.response.status_code", res.statusCode);
      if (res.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    });
    context.with(traced, () => answer(req, res, url, requestId));
  };

  function answer(req: HttpRequest, res: HttpResponse, url: URL, requestId: string): void {
    const corsOutcome = cors(req, res);
    if (corsOutcome === "answered") return;
    if (corsOutcome === "refused") {
      writeError(res, new GatewayError(Code.PermissionDenied, "CORS_ORIGIN_REFUSED", `origin ${req.headers.origin} is not allowed; allowed: ${options.corsOrigins.join(", ") || "none"}`));
      return;
    }
    route(req, res, url).catch((error: unknown) => {
        logger.error({ err: error, requestId, path: url.pathname }, "request failed");
        if (!res.headersSent) writeError(res, error);
        else res.end();
    });
  }
}

/** The content types of gRPC, gRPC-Web and Connect carrying binary protobuf. */
const binaryProtobuf = /^application\/(?:grpc(?:-web)?(?:\+proto)?|proto|connect\+proto)\s*(?:;|$)/i;

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
