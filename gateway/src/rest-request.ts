import { type DescField, type DescMessage, type JsonObject, type JsonValue, type MessageShape, ScalarType, fromJson } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import { GatewayError } from "./gateway-error.js";
import { type RestRoute, isQueryLeaf } from "./rest-routes.js";

function invalid(message: string): GatewayError {
  return new GatewayError(Code.InvalidArgument, "INVALID_REQUEST", message);
}

/** The field a query key names: by proto name (`page_size`) or JSON name (`pageSize`), dotted for nested messages. */
function resolveQueryField(message: DescMessage, key: string): DescField[] | undefined {
  const path: DescField[] = [];
  let current: DescMessage | undefined = message;
  for (const part of key.split(".")) {
    const field: DescField | undefined = current?.fields.find((f) => f.name === part || f.jsonName === part);
    if (!field) return undefined;
    path.push(field);
    current = field.fieldKind === "message" ? field.message : undefined;
  }
  return path;
}

const int32Types = new Set([ScalarType.INT32, ScalarType.UINT32, ScalarType.SINT32, ScalarType.FIXED32, ScalarType.SFIXED32]);
const floatTypes = new Set([ScalarType.FLOAT, ScalarType.DOUBLE]);

function scalarJson(type: ScalarType, raw: string, key: string): JsonValue {
  if (type === ScalarType.BOOL) {
    if (raw === "true" || raw === "false") return raw === "true";
    throw invalid(`${key}: expected true or false, got "${raw}"`);
  }
  if (int32Types.has(type)) {
    if (/^-?\d+$/.test(raw)) return Number(raw);
    throw invalid(`${key}: expected a whole number, got "${raw}"`);
  }
  if (floatTypes.has(type)) {
    if (raw.trim() !== "" && Number.isFinite(Number(raw))) return Number(raw);
    throw invalid(`${key}: expected a number, got "${raw}"`);
  }
  return raw; // strings, bytes (base64) and 64-bit integers are strings in proto3 JSON
}

const wrapperScalars: Record<string, ScalarType> = {
  "google.protobuf.BoolValue": ScalarType.BOOL,
  "google.protobuf.Int32Value": ScalarType.INT32,
  "google.protobuf.UInt32Value": ScalarType.UINT32,
  "google.protobuf.FloatValue": ScalarType.FLOAT,
  "google.protobuf.DoubleValue": ScalarType.DOUBLE,
};

function leafJson(field: DescField, raw: string, key: string): JsonValue {
  const scalar = field.fieldKind === "scalar" || (field.fieldKind === "list" && field.listKind === "scalar") ? field.scalar : undefined;
  if (scalar !== undefined) return scalarJson(scalar, raw, key);
  const enumDesc = field.fieldKind === "enum" || (field.fieldKind === "list" && field.listKind === "enum") ? field.enum : undefined;
  if (enumDesc !== undefined) {
    if (/^-?\d+$/.test(raw)) return Number(raw);
    if (enumDesc.values.some((v) => v.name === raw)) return raw;
    throw invalid(`${key}: expected one of ${enumDesc.values.map((v) => v.name).join(", ")}, got "${raw}"`);
  }
  // A well-known type whose JSON form is one value.
  const wrapped = field.fieldKind === "message" ? wrapperScalars[field.message.typeName] : undefined;
  return wrapped === undefined ? raw : scalarJson(wrapped, raw, key);
}

function setAt(target: JsonObject, path: readonly DescField[], value: JsonValue, what: string): void {
  let node = target;
  for (const field of path.slice(0, -1)) {
    const next = node[field.jsonName];
    if (next === undefined) node[field.jsonName] = {};
    else if (typeof next !== "object" || next === null || Array.isArray(next)) throw invalid(`${what}: ${field.name} is not an object`);
    node = node[field.jsonName] as JsonObject;
  }
  const leaf = path[path.length - 1]!;
  const existing = node[leaf.jsonName] ?? node[leaf.name];
  if (existing !== undefined && JSON.stringify(existing) !== JSON.stringify(value)) {
    throw invalid(`${what} sets ${path.map((f) => f.name).join(".")} to ${JSON.stringify(value)}, but the body sets it to ${JSON.stringify(existing)}`);
  }
  delete node[leaf.name];
  node[leaf.jsonName] = value;
}

/**
 * Builds the RPC request of a REST call, as google.api.http defines it: path variables, then the
 * body (`*` for the whole request, or one field), then query parameters for the fields neither
 * binds; decoded with the proto3 JSON mapping. Every refusal is INVALID_ARGUMENT naming the field
 * or parameter: unknown fields and parameters, wrong types, values bound twice.
 */
export function restRequestOf<Desc extends DescMessage>(
  route: RestRoute & { method: { input: Desc } },
  variables: Readonly<Record<string, string>>,
  query: URLSearchParams,
  body: JsonValue | undefined,
): MessageShape<Desc> {
  const input = route.method.input;
  let json: JsonObject = {};
  if (route.body === "*") {
    if (body !== undefined) {
      if (typeof body !== "object" || body === null || Array.isArray(body)) throw invalid(`the request body must be a JSON object (${input.typeName})`);
      json = body;
    }
    const keys = [...new Set(query.keys())];
    if (keys.length > 0) throw invalid(`query parameter ${keys[0]} is not accepted: the body carries every field of ${input.typeName}`);
  } else if (route.body !== undefined) {
    const field = resolveQueryField(input, route.body)!;
    if (body !== undefined) setAt(json, field, body, "the body");
  } else if (body !== undefined) {
    throw invalid(`${route.httpMethod} ${route.template.source} takes no request body`);
  }

  const bound = new Set([...route.template.variables, ...(route.body !== undefined && route.body !== "*" ? [route.body] : [])]);
  for (const key of new Set(query.keys())) {
    const path = resolveQueryField(input, key);
    if (!path) throw invalid(`query parameter ${key} names no field of ${input.typeName}`);
    const protoPath = path.map((f) => f.name).join(".");
    if ([...bound].some((b) => protoPath === b || protoPath.startsWith(`${b}.`))) throw invalid(`query parameter ${key} is bound by the path or body already`);
    const leaf = path[path.length - 1]!;
    if (!isQueryLeaf(leaf)) throw invalid(`query parameter ${key}: ${leaf.name} is a message or map and cannot come from the query`);
    const values = query.getAll(key);
    if (leaf.fieldKind === "list") setAt(json, path, values.map((v) => leafJson(leaf, v, `query parameter ${key}`)), `query parameter ${key}`);
    else if (values.length > 1) throw invalid(`query parameter ${key} is given ${values.length} times; ${leaf.name} takes one value`);
    else setAt(json, path, leafJson(leaf, values[0]!, `query parameter ${key}`), `query parameter ${key}`);
  }

  for (const [variable, value] of Object.entries(variables)) {
    const path = resolveQueryField(input, variable)!;
    const leaf = path[path.length - 1]!;
    setAt(json, path, leafJson(leaf, value, `path variable ${variable}`), `the path (${variable})`);
  }

  try {
    return fromJson(input, json, { ignoreUnknownFields: false }) as MessageShape<Desc>;
  } catch (error) {
    throw invalid((error as Error).message);
  }
}
