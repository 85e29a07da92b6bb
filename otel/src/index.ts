export { traceExemplar } from "./exemplar.js";
export { activeContext, contextOfHeaders, traceHeaders } from "./kafka-trace.js";
export { type TracingOptions, peerServiceTracer, shutdownTracing, startTracing } from "./tracing.js";
