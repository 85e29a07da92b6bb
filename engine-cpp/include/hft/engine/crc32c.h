// CRC-32C (Castagnoli), the checksum of iSCSI, ext4 and LevelDB: the SSE4.2 crc32 instruction
// when the CPU has it (about 8 bytes per cycle), a table otherwise; both give the same values.
#pragma once

#include <cstddef>
#include <cstdint>

namespace hft::engine {

// The CRC of `size` bytes; pass a previous result as `crc` to extend it over more bytes.
uint32_t crc32c(const void* data, size_t size, uint32_t crc = 0);

}  // namespace hft::engine
