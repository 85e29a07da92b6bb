// EngineService over gRPC's callback API: OrderFlow and Subscribe streams, book, stats and
// instrument queries. Commands go to the pipeline; queries run on the matching thread.
#pragma once

#include <grpcpp/grpcpp.h>

#include <cstdint>
#include <random>
#include <string>

#include "event_log.h"
#include "market_data.h"
#include "hft/v1/engine_service.grpc.pb.h"
#include "pipeline.h"

namespace hft::engine::server {

class EngineServiceImpl final : public hft::v1::EngineService::CallbackService {
 public:
  // `engine_options` are the live engine's: a journal replay for Subscribe must use the same shard
  // and first order id to reproduce the events that were published. `start_sequence` is the last
  // sequence recovery restored (GetStats.start_sequence).
  EngineServiceImpl(Pipeline& pipeline, EventLog& log, MarketDataHub& market_data, std::string data_dir, EngineOptions engine_options,
                    uint64_t start_sequence)
      : pipeline_(pipeline),
        log_(log),
        market_data_(market_data),
        data_dir_(std::move(data_dir)),
        engine_options_(std::move(engine_options)),
        start_sequence_(start_sequence) {}

  grpc::ServerBidiReactor<hft::v1::OrderFlowRequest, hft::v1::OrderFlowResponse>* OrderFlow(grpc::CallbackServerContext* context) override;
  grpc::ServerWriteReactor<hft::v1::SubscribeResponse>* Subscribe(grpc::CallbackServerContext* context,
                                                                  const hft::v1::SubscribeRequest* request) override;
  grpc::ServerUnaryReactor* GetBookSnapshot(grpc::CallbackServerContext* context, const hft::v1::GetBookSnapshotRequest* request,
                                            hft::v1::GetBookSnapshotResponse* response) override;
  grpc::ServerWriteReactor<hft::v1::StreamMarketUpdatesResponse>* StreamMarketUpdates(
      grpc::CallbackServerContext* context, const hft::v1::StreamMarketUpdatesRequest* request) override;
  grpc::ServerUnaryReactor* GetStats(grpc::CallbackServerContext* context, const hft::v1::GetStatsRequest* request,
                                     hft::v1::GetStatsResponse* response) override;
  grpc::ServerUnaryReactor* ListShardInstruments(grpc::CallbackServerContext* context, const hft::v1::ListShardInstrumentsRequest* request,
                                                 hft::v1::ListShardInstrumentsResponse* response) override;
  const ReaderPositions& subscribers() const { return subscribers_; }

 private:
  Pipeline& pipeline_;
  EventLog& log_;
  MarketDataHub& market_data_;
  std::string data_dir_;
  EngineOptions engine_options_;
  ReaderPositions subscribers_;
  const uint64_t start_sequence_;
  // Drawn at start (GetStats.instance_id): clients tell a restarted engine by it. Never 0, and
  // below 2^62 so that it fits a signed 64-bit column.
  const uint64_t instance_id_ =
      (std::random_device{}() | (static_cast<uint64_t>(std::random_device{}() & 0x3fffffff) << 32)) | 1;
};

}  // namespace hft::engine::server
