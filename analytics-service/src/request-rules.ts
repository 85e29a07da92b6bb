/**
 * The contract's protovalidate rules enforced on requests that arrive as ts-proto objects: the
 * same bytes are read as the protobuf-es message the validator understands, so the rules in
 * `analytics_service.proto` are the ones enforced. The message names each field and rule that
 * failed ("days: value must be less than or equal to 366").
 */
import { type DescMessage, fromBinary } from "@bufbuild/protobuf";
import { createValidator } from "@bufbuild/protovalidate";

const validator = createValidator();

/** The violations of `encoded` as one message ("field: problem; ..."), or undefined when valid. */
export function ruleViolations(schema: DescMessage, encoded: Uint8Array): string | undefined {
  const result = validator.validate(schema, fromBinary(schema, encoded));
  if (result.kind === "valid") return undefined;
  if (result.kind === "error") return result.error.message;
  return result.violations
    .map((v) => {
      const field = v.field.map((f) => ("name" in f ? f.name : "")).filter(Boolean).join(".");
      return field ? `${field}: ${v.message}` : v.message;
    })
    .join("; ");
}
