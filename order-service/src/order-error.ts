import type * as grpc from "@grpc/grpc-js";

/** A refused request: the gRPC status, a stable reason for machines, a message for people. */
export class OrderError extends Error {
  constructor(
    readonly code: grpc.status,
    readonly reason: string,
    message: string,
  ) {
    super(message);
    this.name = "OrderError";
  }
}
