#include "train/input_json.h"

#include <nlohmann/json.hpp>

namespace tb::train {

void AddInputJson(const TrainSummary& s, nlohmann::json* detail) {
  nlohmann::json& d = *detail;
  d["input_mode"] = s.input_mode;
  d["shuffle"] = s.shuffle;
  if (s.epoch_input.empty()) return;
  nlohmann::json bytes = nlohmann::json::array(), gets = nlohmann::json::array();
  nlohmann::json hits = nlohmann::json::array(), hit_bytes = nlohmann::json::array();
  nlohmann::json resumed = nlohmann::json::array();
  for (const SourceStats& e : s.epoch_input) {
    bytes.push_back(e.bytes);
    gets.push_back(e.gets);
    hits.push_back(e.cache_hits);
    hit_bytes.push_back(e.cache_hit_bytes);
    resumed.push_back(e.resumed);
  }
  d["input_bytes_per_epoch"] = bytes;
  d["input_gets_per_epoch"] = gets;
  d["cache_hits_per_epoch"] = hits;
  d["cache_hit_bytes_per_epoch"] = hit_bytes;
  d["input_resumed_per_epoch"] = resumed;
  d["input_setup_bytes"] = s.setup_input.bytes;
  d["input_setup_gets"] = s.setup_input.gets;
}

}  // namespace tb::train
