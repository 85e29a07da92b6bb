/**
 * The contract's protovalidate rules (`buf.validate` options in proto/), as one line naming each
 * field and rule that failed ("days: value must be less than or equal to 366; ..."), for an
 * INVALID_ARGUMENT message.
 */
import { type DescMessage, type MessageShape, fromBinary } from "@bufbuild/protobuf";
import { createValidator } from "@bufbuild/protovalidate";

const validator = createValidator();

/** The violations of a protobuf-es `message`, or undefined when it is valid. */
export function violationsOf<Desc extends DescMessage>(schema: Desc, message: MessageShape<Desc>): string | undefined {
  const result = validator.validate(schema, message);
  if (result.kind === "valid") return undefined;
  if (result.kind === "error") return result.error.message;
  return result.violations
    .map((v) => {
      const field = v.field.map((f) => ("name" in f ? f.name : "")).filter(Boolean).join(".");
      return field ? `${field}: ${v.message}` : v.message;
    })
    .join("; ");
}

/**
 * The violations of a request that arrived as a ts-proto object, given its bytes: they are read
 * as the protobuf-es message the validator understands, so the rules in the .proto files are the
 * ones enforced.
 */
export function violationsOfBytes(schema: DescMessage, encoded: Uint8Array): string | undefined {
  return violationsOf(schema, fromBinary(schema, encoded));
}
