import { describe, expect, it } from "vitest";
import { parsePathTemplate } from "./path-template.js";

describe("parsePathTemplate", () => {
  it("binds a variable segment, percent-decoded", () => {
    const template = parsePathTemplate("/api/v1/orders/{order_id}");
    expect(template.variables).toEqual(["order_id"]);
    expect(template.match("/api/v1/orders/42")).toEqual({ order_id: "42" });
    expect(template.match("/api/v1/orders/a%20b")).toEqual({ order_id: "a b" });
  });

  it("matches literals exactly, nothing more or less", () => {
    const template = parsePathTemplate("/api/analytics/daily-pnl");
    expect(template.match("/api/analytics/daily-pnl")).toEqual({});
    expect(template.match("/api/analytics/daily-pnl/")).toBeUndefined();
    expect(template.match("/api/analytics")).toBeUndefined();
    expect(template.match("/api/analytics/daily_pnl")).toBeUndefined();
  });

  it("requires the custom verb and does not let a variable swallow a slash", () => {
    const cancelAll = parsePathTemplate("/api/v1/orders:cancelAll");
    expect(cancelAll.match("/api/v1/orders:cancelAll")).toEqual({});
    expect(cancelAll.match("/api/v1/orders")).toBeUndefined();
    expect(parsePathTemplate("/api/v1/orders/{order_id}").match("/api/v1/orders/1/2")).toBeUndefined();
  });

  it("binds multi-segment patterns and nested field paths", () => {
    const template = parsePathTemplate("/v1/{book.name=shelves/*/books/**}:read");
    expect(template.variables).toEqual(["book.name"]);
    expect(template.match("/v1/shelves/s1/books/a/b:read")).toEqual({ "book.name": "shelves/s1/books/a/b" });
    expect(template.literalCount).toBe(3);
  });

  it("refuses a malformed %-escape", () => {
    expect(parsePathTemplate("/api/v1/book/{symbol}").match("/api/v1/book/%E0%A4%A")).toBeUndefined();
  });

  it.each([
    ["api/v1/orders", "must start with /"],
    ["/api/{order_id", "unclosed {"],
    ["/api/{Order-Id}", "is not a field path"],
    ["/api/x{id}", "is not a literal"],
  ])("rejects %s (%s)", (source, problem) => {
    expect(() => parsePathTemplate(source)).toThrow(problem);
  });
});
