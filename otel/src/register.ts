/**
 * Loaded with `--import @hft/otel/register` right after tsx and before the service's main module:
 * registers the ESM hook that lets instrumentations patch imported modules, then starts tracing
 * from the OTEL_* variables (see tracing.ts).
 */
import { register } from "node:module";
import { startTracing } from "./tracing.js";

if (process.env.OTEL_SDK_DISABLED !== "true") {
  register("@opentelemetry/instrumentation/hook.mjs", import.meta.url);
  startTracing({
    serviceName: process.env.OTEL_SERVICE_NAME || "hft-unnamed-service",
    otlpEndpoint: process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.replace(/\/v1\/traces\/?$/, "") || process.env.OTEL_EXPORTER_OTLP_ENDPOINT || undefined,
  });
}
