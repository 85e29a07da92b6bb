import { describe, expect, it } from "vitest";
import { isPostgresUnreachable } from "./clients.js";

describe("isPostgresUnreachable", () => {
  it.each([
    ["an admin shutdown (PostgreSQL stopping)", { code: "57P01", message: "terminating connection due to administrator command" }],
    ["a server starting up", { code: "57P03", message: "the database system is starting up" }],
    ["a connection exception (class 08)", { code: "08006", message: "connection failure" }],
    ["a refused connection", { code: "ECONNREFUSED", message: "connect ECONNREFUSED 127.0.0.1:5432" }],
    ["a connection lost mid-query", { message: "Connection terminated unexpectedly" }],
    ["a broken pooled client", { message: "Client has encountered a connection error and is not queryable" }],
    ["no connection in time", { message: "timeout exceeded when trying to connect" }],
  ])("is true for %s", (_case, error) => {
    expect(isPostgresUnreachable(Object.assign(new Error(error.message), error))).toBe(true);
  });

  it.each([
    ["a unique violation", { code: "23505", message: "duplicate key value violates unique constraint" }],
    ["a syntax error", { code: "42601", message: "syntax error at or near" }],
    ["a non-error", undefined],
  ])("is false for %s", (_case, error) => {
    expect(isPostgresUnreachable(error && Object.assign(new Error(error.message), error))).toBe(false);
  });
});
