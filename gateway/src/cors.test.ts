import { describe, expect, it } from "vitest";
import { createCors } from "./cors.js";
import type { HttpRequest, HttpResponse } from "./http-io.js";

/** A request and a response that records what the policy wrote. */
function exchange(headers: Record<string, string>, method = "GET") {
  const written: Record<string, string> = {};
  const res = {
    statusCode: 200,
    ended: false,
    setHeader(name: string, value: string) {
      written[name] = value;
    },
    end() {
      this.ended = true;
    },
  };
  const req = { method, headers: { host: "gateway.local:8080", ...headers } };
  return { req: req as unknown as HttpRequest, res: res as unknown as HttpResponse & { ended: boolean }, written };
}

describe("createCors", () => {
  const cors = createCors({ origins: ["https://app.example.com"] });

  it("leaves requests without an Origin and same-origin requests alone", () => {
    for (const headers of [{}, { origin: "http://gateway.local:8080" }] as Record<string, string>[]) {
      const { req, res, written } = exchange(headers);
      expect([cors(req, res), written]).toEqual(["continue", {}]);
    }
  });

  it("answers an allowed origin's preflight with 204 and the allowed methods and headers", () => {
    const { req, res, written } = exchange({ origin: "https://app.example.com", "access-control-request-method": "POST" }, "OPTIONS");
    expect(cors(req, res)).toBe("answered");
    expect([res.statusCode, res.ended]).toEqual([204, true]);
    expect(written["access-control-allow-origin"]).toBe("https://app.example.com");
    expect(written["access-control-allow-methods"]).toBe("GET, POST, PUT, PATCH, DELETE");
    expect(written["access-control-allow-headers"]).toMatch(/Authorization.*X-Request-Id/);
    expect(written["vary"]).toBe("Origin");
  });

  it("lets an allowed origin's request through with the exposed headers", () => {
    const { req, res, written } = exchange({ origin: "https://app.example.com" });
    expect(cors(req, res)).toBe("continue");
    expect(written["access-control-expose-headers"]).toMatch(/Grpc-Status.*Hft-Reason.*Retry-After/);
  });

  it("refuses an origin not on the list, or one that differs only in scheme or port", () => {
    for (const origin of ["https://evil.example.com", "http://app.example.com", "https://app.example.com:8443", "null"]) {
      const { req, res, written } = exchange({ origin, "access-control-request-method": "POST" }, "OPTIONS");
      expect([origin, cors(req, res), written["access-control-allow-origin"]]).toEqual([origin, "refused", undefined]);
    }
  });

  it("allows any origin with *", () => {
    const { req, res, written } = exchange({ origin: "https://anything.example" });
    expect(createCors({ origins: ["*"] })(req, res)).toBe("continue");
    expect(written["access-control-allow-origin"]).toBe("https://anything.example");
  });
});
