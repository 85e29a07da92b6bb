import { type DescEnum, type DescField, type DescMessage, ScalarType } from "@bufbuild/protobuf";
import { type RestRoute, isQueryLeaf } from "./rest-routes.js";

/** A JSON Schema / OpenAPI object; loose on purpose, it is serialised as is. */
type Json = { [key: string]: unknown };

const scalarSchemas: Readonly<Record<ScalarType, Json>> = {
  [ScalarType.DOUBLE]: { type: "number", format: "double" },
  [ScalarType.FLOAT]: { type: "number", format: "float" },
  [ScalarType.INT64]: { type: "string", format: "int64", pattern: "^-?[0-9]+$" },
  [ScalarType.UINT64]: { type: "string", format: "uint64", pattern: "^[0-9]+$" },
  [ScalarType.INT32]: { type: "integer", format: "int32" },
  [ScalarType.FIXED64]: { type: "string", format: "uint64", pattern: "^[0-9]+$" },
  [ScalarType.FIXED32]: { type: "integer", format: "uint32", minimum: 0 },
  [ScalarType.BOOL]: { type: "boolean" },
  [ScalarType.STRING]: { type: "string" },
  [ScalarType.BYTES]: { type: "string", format: "byte" },
  [ScalarType.UINT32]: { type: "integer", format: "uint32", minimum: 0 },
  [ScalarType.SFIXED32]: { type: "integer", format: "int32" },
  [ScalarType.SFIXED64]: { type: "string", format: "int64", pattern: "^-?[0-9]+$" },
  [ScalarType.SINT32]: { type: "integer", format: "int32" },
  [ScalarType.SINT64]: { type: "string", format: "int64", pattern: "^-?[0-9]+$" },
};

/** Well-known types by their proto3 JSON form. */
const wellKnownSchemas: Readonly<Record<string, Json>> = {
  "google.protobuf.Timestamp": { type: "string", format: "date-time" },
  "google.protobuf.Duration": { type: "string", pattern: "^-?[0-9]+(\\.[0-9]{1,9})?s$" },
  "google.protobuf.FieldMask": { type: "string" },
  "google.protobuf.Empty": { type: "object" },
  "google.protobuf.Struct": { type: "object", additionalProperties: true },
  "google.protobuf.Value": {},
  "google.protobuf.Any": { type: "object", properties: { "@type": { type: "string" } }, additionalProperties: true },
  "google.protobuf.StringValue": { type: "string" },
  "google.protobuf.BytesValue": { type: "string", format: "byte" },
  "google.protobuf.BoolValue": { type: "boolean" },
  "google.protobuf.Int32Value": { type: "integer", format: "int32" },
  "google.protobuf.UInt32Value": { type: "integer", format: "uint32" },
  "google.protobuf.Int64Value": { type: "string", format: "int64" },
  "google.protobuf.UInt64Value": { type: "string", format: "uint64" },
  "google.protobuf.FloatValue": { type: "number", format: "float" },
  "google.protobuf.DoubleValue": { type: "number", format: "double" },
};

const errorSchema: Json = {
  type: "object",
  description: "A failure: the gRPC code's Connect name, a message saying what was expected and what arrived, details, and the stable reason.",
  required: ["code", "message", "details"],
  properties: {
    code: { type: "string", example: "invalid_argument" },
    message: { type: "string" },
    details: { type: "array", items: { type: "object", properties: { type: { type: "string" }, value: { type: "string", format: "byte" }, debug: {} } } },
    reason: { type: "string", example: "INVALID_REQUEST" },
  },
};

/** A unique operation id: an RPC with additional bindings gets `_2`, `_3`... */
function operationIdOf(paths: Record<string, Record<string, Json>>, base: string): string {
  const taken = new Set(Object.values(paths).flatMap((operations) => Object.values(operations).map((o) => o.operationId)));
  let id = base;
  for (let n = 2; taken.has(id); n++) id = `${base}_${n}`;
  return id;
}

export interface OpenApiOptions {
  readonly title: string;
  readonly version: string;
}

/**
 * The OpenAPI 3.1 document of the REST routes, generated from the same descriptors the transcoder
 * serves (so the two cannot drift): one operation per route, path variables and query parameters
 * from the request fields they bind, bodies and responses as proto3 JSON schemas of the messages.
 */
export function generateOpenApi(routes: readonly RestRoute[], options: OpenApiOptions): Json {
  const schemas: Record<string, Json> = { Error: errorSchema };

  // Proto3 JSON writes an enum's name and reads its name or its number: both are documented.
  function enumRef(desc: DescEnum): Json {
    if (!schemas[desc.typeName]) {
      schemas[desc.typeName] = {
        description: "The value's name; a request may give its number instead.",
        anyOf: [
          { type: "string", enum: desc.values.map((v) => v.name) },
          { type: "integer", enum: desc.values.map((v) => v.number) },
        ],
      };
    }
    return { $ref: `#/components/schemas/${desc.typeName}` };
  }
  function messageRef(desc: DescMessage): Json {
    const known = wellKnownSchemas[desc.typeName];
    if (known) return known;
    if (!schemas[desc.typeName]) {
      schemas[desc.typeName] = {}; // placeholder: recursive messages refer to themselves
      const properties: Record<string, Json> = {};
      for (const field of desc.fields) properties[field.jsonName] = fieldSchema(field);
      const oneofs = desc.oneofs.map((o) => `${o.name}: at most one of ${o.fields.map((f) => f.jsonName).join(", ")}`);
      schemas[desc.typeName] = { type: "object", properties, additionalProperties: false, ...(oneofs.length ? { description: `oneof ${oneofs.join("; ")}` } : {}) };
    }
    return { $ref: `#/components/schemas/${desc.typeName}` };
  }
  function fieldSchema(field: DescField): Json {
    switch (field.fieldKind) {
      case "scalar":
        return { ...scalarSchemas[field.scalar] };
      case "enum":
        return enumRef(field.enum);
      case "message":
        return messageRef(field.message);
      case "list":
        return { type: "array", items: field.listKind === "scalar" ? { ...scalarSchemas[field.scalar] } : field.listKind === "enum" ? enumRef(field.enum) : messageRef(field.message) };
      case "map":
        return {
          type: "object",
          additionalProperties: field.mapKind === "scalar" ? { ...scalarSchemas[field.scalar] } : field.mapKind === "enum" ? enumRef(field.enum) : messageRef(field.message),
        };
    }
  }
  function queryParameters(message: DescMessage, bound: ReadonlySet<string>, prefix = ""): Json[] {
    const parameters: Json[] = [];
    for (const field of message.fields) {
      const name = `${prefix}${field.name}`;
      if (bound.has(name)) continue;
      if (isQueryLeaf(field)) {
        const schema = fieldSchema(field);
        parameters.push({ name, in: "query", required: false, schema, ...(field.fieldKind === "list" ? { style: "form", explode: true } : {}) });
      } else if (field.fieldKind === "message" && !prefix.split(".").includes(field.name)) {
        parameters.push(...queryParameters(field.message, bound, `${name}.`));
      }
    }
    return parameters;
  }

  const paths: Record<string, Record<string, Json>> = {};
  for (const route of routes) {
    const method = route.method;
    const path = route.template.source.replace(/\{([^}=]+)=[^}]*\}/g, "{$1}");
    const bound = new Set([...route.template.variables, ...(route.body && route.body !== "*" ? [route.body] : [])]);
    const parameters: Json[] = route.template.variables.map((variable) => {
      const field = method.input.fields.find((f) => f.name === variable.split(".")[0]);
      return { name: variable, in: "path", required: true, schema: field && field.fieldKind !== "message" ? fieldSchema(field) : { type: "string" } };
    });
    if (route.body !== "*") parameters.push(...queryParameters(method.input, bound));
    const stream = method.methodKind === "server_streaming";
    const output = messageRef(method.output);
    const operation: Json = {
      operationId: operationIdOf(paths, `${method.parent.name}_${method.name}`),
      summary: `${method.parent.typeName}/${method.name}`,
      tags: [method.parent.name],
      parameters,
      responses: {
        "200": stream
          ? {
              description: "A stream of messages: one JSON object per line (application/x-ndjson), or Server-Sent Events with Accept: text/event-stream. A failure after the first message arrives as a last line {\"error\": Error}.",
              content: { "application/x-ndjson": { schema: output }, "text/event-stream": { schema: { type: "string" } } },
            }
          : { description: "OK", content: { "application/json": { schema: output } } },
        default: { description: "A failure: the HTTP status follows the gRPC code (400 invalid_argument, 401, 403, 404, 409, 429 with Retry-After, 503...).", content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } } },
      },
    };
    if (route.body !== undefined) {
      const schema = route.body === "*" ? messageRef(method.input) : fieldSchema(method.input.fields.find((f) => f.name === route.body)!);
      // Optional, as the transcoder reads it: no body leaves every field it binds at its default.
      operation.requestBody = { required: false, content: { "application/json": { schema } } };
    }
    (paths[path] ??= {})[route.httpMethod.toLowerCase()] = operation;
  }

  return {
    openapi: "3.1.0",
    info: {
      title: options.title,
      version: options.version,
      description: "REST/JSON routes of the public services, transcoded by the gateway from their google.api.http annotations. The same services are served over Connect, gRPC and gRPC-Web on the same port.",
    },
    servers: [{ url: "/" }],
    security: [{ bearerAuth: [] }],
    paths,
    components: {
      schemas,
      securitySchemes: { bearerAuth: { type: "http", scheme: "bearer", bearerFormat: "JWT" } },
    },
  };
}
