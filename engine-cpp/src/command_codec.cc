#include "hft/engine/command_codec.h"

#include "hft/engine/byte_codec.h"

namespace hft::engine {

size_t encode_command(const Command& c, uint8_t* out) {
  ByteWriter w(out);
  w.put(c.sequence), w.put(c.timestamp), w.put(c.type);
  switch (c.type) {
    case CommandType::NewOrder: {
      const NewOrder& o = c.new_order;
      w.put(o.account), w.put(o.instrument), w.put(o.client_order_id), w.put(o.side), w.put(o.type), w.put(o.tif);
      w.put(o.price), w.put(o.stop_price), w.put(o.quantity), w.put(o.display_quantity), w.put(o.post_only), w.put(o.stp);
      break;
    }
    case CommandType::CancelOrder: w.put(c.cancel_order.account), w.put(c.cancel_order.order_id); break;
    case CommandType::ReplaceOrder: {
      const ReplaceOrder& r = c.replace_order;
      w.put(r.account), w.put(r.order_id), w.put(r.new_price), w.put(r.new_quantity);
      break;
    }
    case CommandType::MassCancel: w.put(c.mass_cancel.account), w.put(c.mass_cancel.instrument); break;
    case CommandType::DefineInstrument: {
      const DefineInstrument& d = c.define_instrument;
      w.put(d.id), w.put(d.symbol), w.put(d.tick_size), w.put(d.lot_size);
      w.put(d.min_quantity), w.put(d.max_quantity), w.put(d.band_low), w.put(d.band_high);
      break;
    }
    case CommandType::EndTradingSession: w.put(c.end_trading_session.instrument); break;
  }
  return static_cast<size_t>(w.position() - out);
}

bool decode_command(const uint8_t* data, size_t size, Command& c) {
  ByteReader r(data, size);
  Sequence sequence;
  TimestampNs timestamp;
  CommandType type;
  if (!r.get(sequence) || !r.get(timestamp) || !r.get(type)) return false;
  bool ok = false;
  switch (type) {
    case CommandType::NewOrder: {
      NewOrder o;
      ok = r.get(o.account) && r.get(o.instrument) && r.get(o.client_order_id) && r.get(o.side) && r.get(o.type) && r.get(o.tif) &&
           r.get(o.price) && r.get(o.stop_price) && r.get(o.quantity) && r.get(o.display_quantity) && r.get(o.post_only) && r.get(o.stp);
      c = Command(o);
      break;
    }
    case CommandType::CancelOrder: {
      CancelOrder o;
      ok = r.get(o.account) && r.get(o.order_id);
      c = Command(o);
      break;
    }
    case CommandType::ReplaceOrder: {
      ReplaceOrder o;
      ok = r.get(o.account) && r.get(o.order_id) && r.get(o.new_price) && r.get(o.new_quantity);
      c = Command(o);
      break;
    }
    case CommandType::MassCancel: {
      MassCancel o;
      ok = r.get(o.account) && r.get(o.instrument);
      c = Command(o);
      break;
    }
    case CommandType::DefineInstrument: {
      DefineInstrument d;
      ok = r.get(d.id) && r.get(d.symbol) && r.get(d.tick_size) && r.get(d.lot_size) && r.get(d.min_quantity) && r.get(d.max_quantity) &&
           r.get(d.band_low) && r.get(d.band_high);
      c = Command(d);
      break;
    }
    case CommandType::EndTradingSession: {
      EndTradingSession o;
      ok = r.get(o.instrument);
      c = Command(o);
      break;
    }
  }
  c.sequence = sequence;
  c.timestamp = timestamp;
  return ok && r.remaining() == 0;
}

}  // namespace hft::engine
