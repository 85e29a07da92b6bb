// Conversions between the engine's value types and the hft.v1 messages of EngineService.
#pragma once

#include <string>

#include "hft/engine/matching_engine.h"
#include "hft/v1/engine_service.pb.h"

namespace hft::engine::server {

// Fills `out` (sequence and timestamp left for the sequencer) from a wire command. Returns the
// reason the command cannot be sequenced at all, or RejectReason::None with `out` filled.
RejectReason to_command(const hft::v1::EngineCommand& in, Command& out, std::string& problem);

void to_proto(const Event& event, hft::v1::EngineEvent* out);
void to_proto(const DefineInstrument& def, hft::v1::DefineInstrument* out);
void set_timestamp(TimestampNs ns, google::protobuf::Timestamp* out);

}  // namespace hft::engine::server
