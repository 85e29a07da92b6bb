import { Validator } from "@seriousme/openapi-schema-validator";
import { describe, expect, it } from "vitest";
import { publicServices } from "./public-services.js";
import { generateOpenApi } from "./openapi.js";
import { restRoutesOf } from "./rest-routes.js";

const routes = restRoutesOf(publicServices);
const document = generateOpenApi(routes, { title: "HFT platform API", version: "v1" }) as { paths: Record<string, Record<string, { parameters: { name: string; in: string }[] }>> };

describe("generateOpenApi", () => {
  it("produces a document the OpenAPI 3.1 schema accepts", async () => {
    const validator = new Validator();
    const result = await validator.validate(document as never);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe("3.1");
  });

  it("lists every REST route as an operation", () => {
    const operations = Object.entries(document.paths).flatMap(([path, methods]) => Object.keys(methods).map((method) => `${method.toUpperCase()} ${path}`));
    expect(operations.sort()).toEqual(routes.map((r) => `${r.httpMethod} ${r.template.source}`).sort());
  });

  it("describes path variables and the query parameters of the fields left", () => {
    const get = document.paths["/api/v1/orders/{order_id}"]!.get!;
    expect(get.parameters).toEqual([expect.objectContaining({ name: "order_id", in: "path", required: true })]);
    const daily = document.paths["/api/analytics/daily-pnl"]!.get!;
    expect(daily.parameters.map((p) => `${p.in}:${p.name}`)).toEqual(["query:days", "query:account"]);
  });

  it("documents an enum by name and by number, and a body as optional, as the transcoder reads them", () => {
    const schemas = (document as unknown as { components: { schemas: Record<string, unknown> } }).components.schemas;
    expect(schemas["hft.v1.Side"]).toMatchObject({ anyOf: [{ type: "string", enum: ["SIDE_UNSPECIFIED", "SIDE_BUY", "SIDE_SELL"] }, { type: "integer", enum: [0, 1, 2] }] });
    const cancelAll = document.paths["/api/v1/orders:cancelAll"]!.post! as unknown as { requestBody: { required: boolean } };
    expect(cancelAll.requestBody.required).toBe(false);
  });
});
