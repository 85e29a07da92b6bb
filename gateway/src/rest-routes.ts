import { type DescField, type DescMessage, type DescMethod, type DescService, getOption, hasOption } from "@bufbuild/protobuf";
import { http } from "@hft/contract/es/google/api/annotations_pb.js";
import type { HttpRule } from "@hft/contract/es/google/api/http_pb.js";
import { type PathTemplate, parsePathTemplate } from "./path-template.js";

/** One REST binding of an RPC: an HTTP method and path template, and where the request's fields come from. */
export interface RestRoute {
  readonly httpMethod: string;
  readonly template: PathTemplate;
  readonly method: DescMethod;
  /** `"*"`: the body is the whole request; a field name: the body is that field; undefined: no body. */
  readonly body: string | undefined;
  /** Where the response body comes from: undefined for the whole response, or one of its fields. */
  readonly responseBody: string | undefined;
  /** Derived for a server-streaming RPC without an annotation (see {@link streamRoutePath}). */
  readonly derived: boolean;
}

/**
 * The path of a server-streaming RPC that has no google.api.http annotation (the contract
 * annotates only unary RPCs): `GET /api/v1/streams/<name>`, the name being the method's in kebab
 * case without a leading "Stream" (`StreamOrderUpdates` → `/api/v1/streams/order-updates`). Its
 * request fields come from the query. An annotation, once added, takes precedence.
 */
export function streamRoutePath(method: DescMethod): string {
  const name = method.name.replace(/^Stream(?=[A-Z])/, "");
  return `/api/v1/streams/${name.replace(/([a-z0-9])([A-Z])/g, "$1-$2").toLowerCase()}`;
}

function bindingsOf(rule: HttpRule): HttpRule[] {
  return [rule, ...rule.additionalBindings];
}

function routeOfRule(rule: HttpRule, method: DescMethod): RestRoute | undefined {
  const pattern = rule.pattern;
  if (pattern.case === undefined) return undefined;
  const [httpMethod, path] = pattern.case === "custom" ? [pattern.value.kind.toUpperCase(), pattern.value.path] : [pattern.case.toUpperCase(), pattern.value];
  const template = parsePathTemplate(path);
  for (const variable of template.variables) fieldAt(method.input, variable, `${method.parent.typeName}/${method.name}: path variable`);
  if (rule.body !== "" && rule.body !== "*") fieldAt(method.input, rule.body, `${method.parent.typeName}/${method.name}: body`);
  return {
    httpMethod,
    template,
    method,
    body: rule.body === "" ? undefined : rule.body,
    responseBody: rule.responseBody === "" ? undefined : rule.responseBody,
    derived: false,
  };
}

/** The field at a dotted path of proto names; throws naming the path when there is none. */
export function fieldAt(message: DescMessage, path: string, what: string): DescField {
  let current: DescMessage = message;
  let field: DescField | undefined;
  for (const [index, name] of path.split(".").entries()) {
    field = current.fields.find((f) => f.name === name);
    if (!field) throw new Error(`${what} "${path}" names no field of ${message.typeName}`);
    if (index < path.split(".").length - 1) {
      if (field.fieldKind !== "message") throw new Error(`${what} "${path}": ${field.name} is not a message`);
      current = field.message;
    }
  }
  return field!;
}

/**
 * Every REST route of `services`, read from their google.api.http annotations (additional
 * bindings included) plus the derived routes of unannotated server streams. Nothing here names a
 * particular RPC: an RPC annotated in the contract is served once the contract is regenerated.
 * A template that does not parse or names a missing field stops the gateway at start.
 */
export function restRoutesOf(services: readonly DescService[]): RestRoute[] {
  const routes: RestRoute[] = [];
  for (const service of services) {
    for (const method of service.methods) {
      if (hasOption(method, http)) {
        for (const rule of bindingsOf(getOption(method, http))) {
          const route = routeOfRule(rule, method);
          if (route) routes.push(route);
        }
      } else if (method.methodKind === "server_streaming") {
        routes.push({ httpMethod: "GET", template: parsePathTemplate(streamRoutePath(method)), method, body: undefined, responseBody: undefined, derived: true });
      }
    }
  }
  return routes;
}

/** What a request path and method resolve to. */
export type RouteMatch =
  | { readonly kind: "found"; readonly route: RestRoute; readonly variables: Record<string, string> }
  | { readonly kind: "method-not-allowed"; readonly allow: readonly string[] }
  | { readonly kind: "not-found" };

export interface RestRouter {
  readonly routes: readonly RestRoute[];
  match(httpMethod: string, path: string): RouteMatch;
}

/** Matches requests against the routes; of several matching templates the one with more literal segments wins. */
export function createRestRouter(routes: readonly RestRoute[]): RestRouter {
  const ordered = [...routes].sort((a, b) => b.template.literalCount - a.template.literalCount);
  return {
    routes,
    match(httpMethod, path) {
      const allow = new Set<string>();
      for (const route of ordered) {
        const variables = route.template.match(path);
        if (!variables) continue;
        if (route.httpMethod === httpMethod) return { kind: "found", route, variables };
        allow.add(route.httpMethod);
      }
      return allow.size > 0 ? { kind: "method-not-allowed", allow: [...allow].sort() } : { kind: "not-found" };
    },
  };
}

/** Whether a field may be set from one query parameter value (or several, when repeated). */
export function isQueryLeaf(field: DescField): boolean {
  if (field.fieldKind === "scalar" || field.fieldKind === "enum") return true;
  if (field.fieldKind === "list") return field.listKind === "scalar" || field.listKind === "enum";
  if (field.fieldKind === "message") return wellKnownStringTypes.has(field.message.typeName);
  return false;
}

/** Well-known types whose JSON form is a single string (or number/bool for wrappers). */
export const wellKnownStringTypes = new Set([
  "google.protobuf.Timestamp",
  "google.protobuf.Duration",
  "google.protobuf.FieldMask",
  "google.protobuf.StringValue",
  "google.protobuf.BytesValue",
  "google.protobuf.Int64Value",
  "google.protobuf.UInt64Value",
  "google.protobuf.Int32Value",
  "google.protobuf.UInt32Value",
  "google.protobuf.BoolValue",
  "google.protobuf.FloatValue",
  "google.protobuf.DoubleValue",
]);
