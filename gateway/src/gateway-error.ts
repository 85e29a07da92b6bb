import { Code, ConnectError } from "@connectrpc/connect";

/**
 * A refusal by the gateway itself (authentication, rate limit, a malformed REST request), with the
 * Connect/gRPC code it is answered with and a message that says what was expected and what
 * arrived. `headers` go on the response (Retry-After, Allow).
 */
export class GatewayError extends Error {
  override readonly name = "GatewayError";
  constructor(
    readonly code: Code,
    /** A stable reason, sent as the `hft-reason` header/trailer like the backends' own. */
    readonly reason: string,
    message: string,
    readonly headers: Readonly<Record<string, string>> = {},
    /** Overrides the HTTP status the code maps to (404, 405, 413 have no gRPC code of their own). */
    readonly httpStatus?: number,
  ) {
    super(message);
  }

  /** The same refusal for an RPC client: its code, message and headers as trailers. */
  toConnectError(): ConnectError {
    return new ConnectError(this.message, this.code, { ...this.headers, "hft-reason": this.reason });
  }
}

/** HTTP statuses of gRPC codes, as google.api.http transcoders answer them (grpc-gateway's table). */
const httpStatusOfCode: Readonly<Record<Code, number>> = {
  [Code.Canceled]: 499,
  [Code.Unknown]: 500,
  [Code.InvalidArgument]: 400,
  [Code.DeadlineExceeded]: 504,
  [Code.NotFound]: 404,
  [Code.AlreadyExists]: 409,
  [Code.PermissionDenied]: 403,
  [Code.ResourceExhausted]: 429,
  [Code.FailedPrecondition]: 400,
  [Code.Aborted]: 409,
  [Code.OutOfRange]: 400,
  [Code.Unimplemented]: 501,
  [Code.Internal]: 500,
  [Code.Unavailable]: 503,
  [Code.DataLoss]: 500,
  [Code.Unauthenticated]: 401,
};

export function httpStatusOf(code: Code): number {
  return httpStatusOfCode[code] ?? 500;
}

/** `invalid_argument`, the code's name in the Connect protocol and in REST error bodies. */
export function codeName(code: Code): string {
  return Code[code]!.replace(/([a-z])([A-Z])/g, "$1_$2").toLowerCase();
}
