// The bytes of one command in the journal: sequence u64 | timestamp i64 | type u8 | the body's
// fields in declaration order (little-endian integers, enums as their u8 value, strings as
// length u8 + bytes, optionals as presence u8 + value). Enum values are stored as given, valid or
// not, so replaying reproduces even the rejection of a malformed command.
#pragma once

#include <cstddef>
#include <cstdint>

#include "hft/engine/commands.h"

namespace hft::engine {

// The longest encoding (a DefineInstrument with full-length strings) fits in this many bytes.
inline constexpr size_t kMaxEncodedCommand = 128;
inline constexpr size_t kMinEncodedCommand = 17;  // the fixed head, no body

// Writes the command at `out` (room for kMaxEncodedCommand bytes); returns the bytes written.
// The type must be one of CommandType's values.
size_t encode_command(const Command& command, uint8_t* out);
// Reads exactly `size` bytes as one command; false when they are not one well-formed encoding.
bool decode_command(const uint8_t* data, size_t size, Command& command);

}  // namespace hft::engine
