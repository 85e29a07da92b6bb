/**
 * google.api.http path templates (`/api/v1/orders/{order_id}`, `/v1/{name=shelves/*}`,
 * `/api/v1/orders:cancelAll`), compiled once to a matcher:
 *
 *     Template = "/" Segments [ Verb ] ;  Segment = "*" | "**" | LITERAL | Variable ;
 *     Variable = "{" FieldPath [ "=" Segments ] "}" ;  Verb = ":" LITERAL ;
 */
export interface PathTemplate {
  /** The template as written in the proto. */
  readonly source: string;
  /** The field paths bound by variables, in order (`["order_id"]`). */
  readonly variables: readonly string[];
  /** Literal segments, to prefer the most specific of several matches. */
  readonly literalCount: number;
  /** The variables' values (percent-decoded) when `path` matches, else undefined. */
  match(path: string): Record<string, string> | undefined;
}

export class PathTemplateError extends Error {
  override readonly name = "PathTemplateError";
}

const literalPattern = /^[A-Za-z0-9._~!$&'()+,;=@-]+$/;
const fieldPathPattern = /^[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)*$/i;

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

function segmentPattern(segment: string, source: string): { pattern: string; literal: boolean } {
  if (segment === "*") return { pattern: "[^/]+", literal: false };
  if (segment === "**") return { pattern: ".+", literal: false };
  if (!literalPattern.test(segment)) throw new PathTemplateError(`path template "${source}": segment "${segment}" is not a literal, * or **`);
  return { pattern: escapeRegExp(segment), literal: true };
}

/** Parses a template; throws {@link PathTemplateError} naming the part that does not fit the grammar. */
export function parsePathTemplate(source: string): PathTemplate {
  if (!source.startsWith("/")) throw new PathTemplateError(`path template "${source}" must start with /`);
  let rest = source.slice(1);
  let verb: string | undefined;
  const lastSlash = rest.lastIndexOf("/");
  const lastColon = rest.lastIndexOf(":");
  if (lastColon > lastSlash && !rest.slice(lastColon).includes("}")) {
    verb = rest.slice(lastColon + 1);
    rest = rest.slice(0, lastColon);
    if (!literalPattern.test(verb)) throw new PathTemplateError(`path template "${source}": verb ":${verb}" is not a literal`);
  }
  const variables: string[] = [];
  let literalCount = 0;
  const parts: string[] = [];
  // Split on "/" outside braces.
  const segments: string[] = [];
  let depth = 0;
  let current = "";
  for (const char of rest) {
    if (char === "{") depth++;
    if (char === "}") depth--;
    if (char === "/" && depth === 0) {
      segments.push(current);
      current = "";
    } else current += char;
  }
  segments.push(current);
  if (depth !== 0) throw new PathTemplateError(`path template "${source}" has an unclosed {`);
  for (const segment of segments) {
    if (segment.startsWith("{")) {
      if (!segment.endsWith("}")) throw new PathTemplateError(`path template "${source}": variable "${segment}" must be a whole segment`);
      const inner = segment.slice(1, -1);
      const [field, pattern] = inner.includes("=") ? [inner.slice(0, inner.indexOf("=")), inner.slice(inner.indexOf("=") + 1)] : [inner, "*"];
      if (!fieldPathPattern.test(field)) throw new PathTemplateError(`path template "${source}": "${field}" is not a field path`);
      const inside = pattern.split("/").map((s) => segmentPattern(s, source));
      literalCount += inside.filter((s) => s.literal).length;
      variables.push(field);
      parts.push(`(${inside.map((s) => s.pattern).join("/")})`);
    } else {
      const compiled = segmentPattern(segment, source);
      if (compiled.literal) literalCount++;
      parts.push(compiled.pattern);
    }
  }
  const regex = new RegExp(`^/${parts.join("/")}${verb === undefined ? "" : `:${escapeRegExp(verb)}`}$`);
  return {
    source,
    variables,
    literalCount,
    match(path) {
      const found = regex.exec(path);
      if (!found) return undefined;
      const values: Record<string, string> = {};
      for (const [index, field] of variables.entries()) {
        try {
          values[field] = decodeURIComponent(found[index + 1]!);
        } catch {
          return undefined; // a malformed %-escape matches nothing
        }
      }
      return values;
    },
  };
}
