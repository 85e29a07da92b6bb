// The unary queries: each runs on the matching thread between commands, so it sees a state that
// is consistent to one sequence.
#include "engine_service.h"

#include "proto_mapping.h"

namespace hft::engine::server {

namespace v1 = hft::v1;

namespace {

void add_levels(const std::vector<LevelView>& levels, google::protobuf::RepeatedPtrField<v1::BookLevel>* out) {
  for (const LevelView& level : levels) {
    v1::BookLevel* l = out->Add();
    l->set_price_ticks(level.price);
    l->set_quantity_lots(level.quantity);
    l->set_order_count(level.order_count);
  }
}

grpc::ServerUnaryReactor* run_query(grpc::CallbackServerContext* context, Pipeline& pipeline,
                                    std::function<grpc::Status(const MatchingEngine&)> query) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (!pipeline.query([reactor, query = std::move(query)](const MatchingEngine& engine) { reactor->Finish(query(engine)); }))
    reactor->Finish(grpc::Status(grpc::StatusCode::UNAVAILABLE, "the engine is shutting down"));
  return reactor;
}

}  // namespace

grpc::ServerUnaryReactor* EngineServiceImpl::GetBookSnapshot(grpc::CallbackServerContext* context, const v1::GetBookSnapshotRequest* request,
                                                             v1::GetBookSnapshotResponse* response) {
  return run_query(context, pipeline_, [request, response](const MatchingEngine& engine) {
    const OrderBook* book = engine.book(request->instrument_id());
    if (book == nullptr)
      return grpc::Status(grpc::StatusCode::NOT_FOUND, "instrument " + std::to_string(request->instrument_id()) + " is not defined in this engine");
    v1::BookSnapshot* snapshot = response->mutable_book();
    snapshot->set_instrument_id(request->instrument_id());
    snapshot->set_sequence(engine.last_sequence());
    snapshot->set_last_trade_price_ticks(book->last_trade_price());
    add_levels(engine.levels(request->instrument_id(), Side::Buy, request->depth()), snapshot->mutable_bids());
    add_levels(engine.levels(request->instrument_id(), Side::Sell, request->depth()), snapshot->mutable_asks());
    return grpc::Status::OK;
  });
}

grpc::ServerWriteReactor<v1::StreamMarketUpdatesResponse>* EngineServiceImpl::StreamMarketUpdates(grpc::CallbackServerContext*,
                                                                                               const v1::StreamMarketUpdatesRequest* request) {
  return market_data_.open(*request);
}

grpc::ServerUnaryReactor* EngineServiceImpl::GetStats(grpc::CallbackServerContext* context, const v1::GetStatsRequest*,
                                                      v1::GetStatsResponse* response) {
  return run_query(context, pipeline_, [this, response](const MatchingEngine& engine) {
    const PipelineCounters& counters = pipeline_.counters();
    response->set_last_sequence(engine.last_sequence());
    response->set_durable_sequence(counters.durable_sequence);
    response->set_commands_total(counters.commands);
    response->set_events_total(counters.events);
    response->set_resting_orders(engine.open_orders() - engine.pending_stops());
    response->set_pending_stops(engine.pending_stops());
    response->set_journal_bytes(counters.journal_bytes);
    response->set_subscribers(static_cast<uint32_t>(subscribers_.count()));
    response->set_instance_id(instance_id_);
    response->set_start_sequence(start_sequence_);
    for (InstrumentId id : engine.instruments()) {
      const OrderBook& book = *engine.book(id);
      v1::InstrumentStats* s = response->add_instruments();
      s->set_instrument_id(id);
      s->set_resting_orders(book.resting_orders());
      s->set_trades_total(book.trades());
      s->set_volume_lots(book.volume());
    }
    return grpc::Status::OK;
  });
}

grpc::ServerUnaryReactor* EngineServiceImpl::ListShardInstruments(grpc::CallbackServerContext* context, const v1::ListShardInstrumentsRequest*,
                                                                  v1::ListShardInstrumentsResponse* response) {
  return run_query(context, pipeline_, [response](const MatchingEngine& engine) {
    for (InstrumentId id : engine.instruments()) to_proto(engine.book(id)->definition(), response->add_instruments());
    for (const std::string& symbol : engine.shard_symbols()) response->add_shard_symbols(symbol);
    return grpc::Status::OK;
  });
}

}  // namespace hft::engine::server
