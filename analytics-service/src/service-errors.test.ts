import * as grpc from "@grpc/grpc-js";
import { AuthError, KeysUnavailableError, createLogger } from "@hft/service-kit";
import { describe, expect, it } from "vitest";
import { AnalyticsError } from "./account-access.js";
import { toServiceError } from "./service.js";

const logger = createLogger({ service: "analytics-errors-test", level: "silent" });
const answer = (error: unknown) => {
  const e = toServiceError(error, logger);
  return [e.code, e.metadata?.get("hft-reason")[0], e.details];
};

describe("what a failed analytics request tells its caller", () => {
  it("says UNAVAILABLE, worth a retry, while PostgreSQL is out of reach, whatever way it shows", () => {
    for (const error of [
      Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:5432"), { code: "ECONNREFUSED" }),
      Object.assign(new Error("terminating connection due to administrator command"), { code: "57P01" }),
      new Error("Connection terminated unexpectedly"),
      new Error("Query read timeout"),
    ]) {
      expect(answer(error)).toEqual([grpc.status.UNAVAILABLE, "DATABASE_UNAVAILABLE", "the figures (PostgreSQL) are out of reach; retry"]);
    }
  });

  it("keeps its own refusals, and tells nothing of an internal error", () => {
    expect(answer(new AnalyticsError("NOT_ACCOUNT_OWNER", "alice may not read bob"))).toEqual([grpc.status.PERMISSION_DENIED, "NOT_ACCOUNT_OWNER", "alice may not read bob"]);
    expect(answer(new AuthError("TOKEN_EXPIRED", "the token expired"))).toEqual([grpc.status.UNAUTHENTICATED, "TOKEN_EXPIRED", "the token expired"]);
    expect(answer(new KeysUnavailableError("the signing keys could not be fetched"))).toEqual([grpc.status.UNAVAILABLE, "AUTH_KEYS_UNAVAILABLE", "the token could not be checked: the signing keys could not be fetched; retry"]);
    // A statement PostgreSQL refused is a bug here, not an outage.
    expect(answer(Object.assign(new Error('relation "figures" does not exist'), { code: "42P01" }))).toEqual([grpc.status.INTERNAL, "INTERNAL", "internal error; it has been logged"]);
  });
});
