/**
 * What every gRPC server of the platform carries besides its own service: the standard health
 * service, server reflection (so grpcurl and SDK tools discover the API), and Prometheus metrics
 * of every call in the names go-grpc-prometheus made common.
 */
import * as grpc from "@grpc/grpc-js";
import { type DescFile, toBinary } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import { ReflectionService } from "@grpc/reflection";
import { HealthImplementation, type ServingStatus } from "grpc-health-check";
import { Counter, Histogram } from "prom-client";
import type { MetricsRegistry } from "./metrics.js";
import type { Logger } from "./logger.js";
import { secondBuckets } from "./metrics.js";
import type { ServerTls } from "./tls.js";

/**
 * Adds server reflection for `services` (fully qualified names, grpc.health.v1.Health among
 * them), described by the protobuf-es files that define them; imports are included, so clients
 * can resolve every type.
 */
export function addReflection(server: grpc.Server, services: readonly string[], files: readonly DescFile[]): void {
  const closure = new Map<string, DescFile>();
  const visit = (file: DescFile) => {
    if (closure.has(file.name)) return;
    closure.set(file.name, file);
    file.dependencies.forEach(visit);
  };
  files.forEach(visit);
  const fileDescriptorProtos = [...closure.values()].map((file) => Buffer.from(toBinary(FileDescriptorProtoSchema, file.proto)));
  // @grpc/reflection reads only the descriptors of a proto-loader package definition.
  const definition = Object.fromEntries(services.map((name) => [name, { fileDescriptorProtos }]));
  new ReflectionService(definition as unknown as ConstructorParameters<typeof ReflectionService>[0], { services: [...services] }).addToServer(server);
}

/**
 * The credentials of a gRPC listener: TLS with `tls`'s certificate (client certificates signed by
 * `tls.clientCa` required when it is set: mutual TLS), or plaintext without `tls`.
 */
export function grpcServerCredentials(tls?: ServerTls): grpc.ServerCredentials {
  if (!tls) return grpc.ServerCredentials.createInsecure();
  return grpc.ServerCredentials.createSsl(tls.clientCa ?? null, [{ cert_chain: tls.cert, private_key: tls.key }], tls.clientCa !== undefined);
}

/**
 * For a process's entry point: binds `server` to `address`, with TLS when `tls` is given (else
 * plaintext: loopback or behind a proxy), or logs why it cannot and exits 1.
 */
export async function listenOrExit(server: grpc.Server, address: string, logger: Logger, tls?: ServerTls): Promise<void> {
  await new Promise<void>((resolve, reject) =>
    server.bindAsync(address, grpcServerCredentials(tls), (error) => (error ? reject(error) : resolve())),
  ).catch((error: Error) => {
    logger.fatal({ err: error }, `cannot listen on ${address}`);
    process.exit(1);
  });
}

/** The health service, answering for the server ("") and each named service with one status. */
export class ServerHealth {
  private readonly health: HealthImplementation;

  constructor(
    server: grpc.Server,
    private readonly services: readonly string[],
  ) {
    this.health = new HealthImplementation(Object.fromEntries(["", ...services].map((name) => [name, "NOT_SERVING" as ServingStatus])));
    this.health.addToServer(server);
  }

  set(status: "SERVING" | "NOT_SERVING"): void {
    for (const name of ["", ...this.services]) this.health.setStatus(name, status);
  }
}

const callType = (method: grpc.ServerMethodDefinition<unknown, unknown>) =>
  method.requestStream ? (method.responseStream ? "bidi_stream" : "client_stream") : method.responseStream ? "server_stream" : "unary";

/**
 * A server interceptor counting calls started and handled (by status code), messages in and out,
 * and the time from a call's start to its status, per service and method.
 */
export function grpcServerMetrics(registry: MetricsRegistry): grpc.ServerInterceptor {
  const labelNames = ["grpc_service", "grpc_method", "grpc_type"] as const;
  const started = new Counter({ name: "grpc_server_started_total", help: "RPCs started on the server.", labelNames, registers: [registry] });
  const handled = new Counter({
    name: "grpc_server_handled_total",
    help: "RPCs completed on the server, by status code.",
    labelNames: [...labelNames, "grpc_code"],
    registers: [registry],
  });
  const received = new Counter({ name: "grpc_server_msg_received_total", help: "Messages received from clients.", labelNames, registers: [registry] });
  const sent = new Counter({ name: "grpc_server_msg_sent_total", help: "Messages sent to clients.", labelNames, registers: [registry] });
  const seconds = new Histogram({
    name: "grpc_server_handling_seconds",
    help: "Time from an RPC's start to its status, in seconds (streams: their whole life).",
    labelNames,
    buckets: secondBuckets,
    registers: [registry],
  });
  return (method, call) => {
    const [, service = "", name = ""] = /^\/([^/]+)\/([^/]+)$/.exec(method.path) ?? [];
    const labels = { grpc_service: service, grpc_method: name, grpc_type: callType(method) };
    const start = process.hrtime.bigint();
    started.inc(labels);
    return new grpc.ServerInterceptingCall(
      call,
      new grpc.ResponderBuilder()
        .withStart((next) =>
          next(
            new grpc.ServerListenerBuilder()
              .withOnReceiveMessage((message, nextMessage) => {
                received.inc(labels);
                nextMessage(message);
              })
              .build(),
          ),
        )
        .withSendMessage((message, next) => {
          sent.inc(labels);
          next(message);
        })
        .withSendStatus((status, next) => {
          handled.inc({ ...labels, grpc_code: grpc.status[status.code] ?? String(status.code) });
          seconds.observe(labels, Number(process.hrtime.bigint() - start) / 1e9);
          next(status);
        })
        .build(),
    );
  };
}
