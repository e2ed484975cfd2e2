#include "report/results.h"

#include <sys/sysinfo.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include "util/fs.h"
#include "util/json.h"
#include "util/text.h"

namespace tb::report {
namespace {

using Json = nlohmann::ordered_json;

double Finite(double x) { return std::isfinite(x) ? x : 0.0; }

// The value of the first "key : value" line of /proc/cpuinfo whose key is one of `keys`.
std::string CpuInfoField(const std::string& cpuinfo, std::initializer_list<const char*> keys) {
  std::string found;
  ForEachKeyValueLine(cpuinfo, [&](std::string_view key, std::string_view value) {
    for (const char* k : keys) {
      if (key == k) {
        found = value;
        return false;
      }
    }
    return true;
  });
  return found;
}

// Embeds text that should hold a JSON object; anything else is kept, visibly, as a string.
Json EmbedObject(const std::string& text) {
  Json j = Json::parse(text.empty() ? std::string("{}") : text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return Json{{"unparsed", text}};
  return j;
}

// ---- strict parsing -------------------------------------------------------------------------

// Walks a parsed document; the first error wins and names file + field path.
class Reader {
 public:
  explicit Reader(const std::string& file) : file_(file) {}
  const tb::Status& status() const { return status_; }
  bool ok() const { return status_.ok(); }

  const Json* Field(const Json& obj, const std::string& path, const char* key, bool required) {
    if (!ok()) return nullptr;
    auto it = obj.find(key);
    if (it == obj.end()) {
      if (required) Fail(Join(path, key), "is missing");
      return nullptr;
    }
    return &*it;
  }

  std::string String(const Json& obj, const std::string& path, const char* key, bool required = true) {
    const Json* v = Field(obj, path, key, required);
    if (!v) return "";
    if (!v->is_string()) {
      Fail(Join(path, key), std::string("must be a string, got ") + v->type_name());
      return "";
    }
    return v->get<std::string>();
  }

  double Number(const Json& obj, const std::string& path, const char* key, bool required = true) {
    const Json* v = Field(obj, path, key, required);
    if (!v) return 0;
    if (!v->is_number()) {
      Fail(Join(path, key), std::string("must be a number, got ") + v->type_name());
      return 0;
    }
    double x = v->get<double>();
    if (!std::isfinite(x) || x < 0) {
      Fail(Join(path, key), "must be a finite number >= 0, got " + v->dump());
      return 0;
    }
    return x;
  }

  uint64_t Unsigned(const Json& obj, const std::string& path, const char* key, bool required = true) {
    const Json* v = Field(obj, path, key, required);
    if (!v) return 0;
    if (!v->is_number_unsigned()) {
      Fail(Join(path, key), "must be an integer >= 0, got " + v->dump());
      return 0;
    }
    return v->get<uint64_t>();
  }

  const Json* Object(const Json& obj, const std::string& path, const char* key, bool required = true) {
    const Json* v = Field(obj, path, key, required);
    if (!v) return nullptr;
    if (!v->is_object()) {
      Fail(Join(path, key), std::string("must be an object, got ") + v->type_name());
      return nullptr;
    }
    return v;
  }

  // A string that must be one of `allowed`.
  std::string Enum(const Json& obj, const std::string& path, const char* key,
                   std::initializer_list<const char*> allowed) {
    std::string s = String(obj, path, key);
    if (!ok()) return s;
    for (const char* a : allowed)
      if (s == a) return s;
    std::string list;
    for (const char* a : allowed) list += std::string(list.empty() ? "" : ", ") + a;
    Fail(Join(path, key), "must be one of " + list + ", got '" + s + "'");
    return s;
  }

  // A status name that must be one of `allowed`.
  StageStatus StatusField(const Json& obj, const std::string& path, const char* key,
                          std::initializer_list<const char*> allowed) {
    std::string s = Enum(obj, path, key, allowed);
    return ok() ? StatusByName(s).value_or(StageStatus::kFailed) : StageStatus::kFailed;
  }

  void Fail(const std::string& field, const std::string& what) {
    if (ok()) status_ = tb::Status::InvalidArgument(file_ + ": field '" + field + "' " + what);
  }
  void FailDoc(const std::string& what) {
    if (ok()) status_ = tb::Status::InvalidArgument(file_ + ": " + what);
  }

  static std::string Join(const std::string& path, const char* key) {
    return path.empty() ? std::string(key) : path + "." + key;
  }

 private:
  std::string file_;
  tb::Status status_;
};

void ParseHost(Reader& r, const Json& j, HostInfo& h, const std::string& p = "host") {
  h.hostname = r.String(j, p, "hostname");
  const Json* cpus = r.Field(j, p, "cpus", true);
  if (cpus && !cpus->is_number_unsigned()) r.Fail(p + ".cpus", "must be an integer >= 0, got " + cpus->dump());
  if (cpus && r.ok()) h.cpus = static_cast<int>(cpus->get<uint64_t>());
  h.memory_bytes = r.Unsigned(j, p, "memory_bytes");
  h.device = r.String(j, p, "device");
  h.cpu_model = r.String(j, p, "cpu_model", false);
  h.kernel = r.String(j, p, "kernel", false);
}

void ParseIo(Reader& r, const Json& j, const std::string& p, StageIo& io);
void ParseRepeatStats(Reader& r, const Json& j, const std::string& p, const char* list, RepeatStats& out);
void ParseRankStages(Reader& r, const Json& j, const std::string& p, StageResult& s);

void ParseStage(Reader& r, const Json& j, const std::string& p, StageResult& s) {
  s.name = r.String(j, p, "name");
  if (r.ok() && s.name.empty()) r.Fail(p + ".name", "must not be empty");
  s.status = r.StatusField(j, p, "status", {"ok", "skipped", "failed", "interrupted"});
  s.seconds = r.Number(j, p, "seconds");
  // Absent in tierbench.run/1: the one time there was is the span.
  const bool clocks = r.Field(j, p, "busy_seconds", false) != nullptr;
  s.busy_seconds = clocks ? r.Number(j, p, "busy_seconds") : s.seconds;
  s.start_s = r.Number(j, p, "start_s", false);
  s.end_s = r.Number(j, p, "end_s", false);
  s.bytes = r.Unsigned(j, p, "bytes");
  s.files = r.Unsigned(j, p, "files");
  s.mb_per_s = r.Number(j, p, "mb_per_s");
  s.error = r.String(j, p, "error", false);
  if (r.ok() && s.status == StageStatus::kFailed && s.error.empty()) r.Fail(p + ".error", "is missing (stage failed)");
  if (const Json* d = r.Object(j, p, "detail", false)) s.detail_json = JsonText(*d);
  if (const Json* io = r.Object(j, p, "io", false)) ParseIo(r, *io, p + ".io", s.io);
  ParseRankStages(r, j, p, s);
  if (const Json* rep = r.Object(j, p, "repeat", false))
    ParseRepeatStats(r, *rep, p + ".repeat", "seconds", s.repeat.emplace());
}

// A "repeat" object's statistics: n, the list named `list` (n numbers), median, min, max,
// ci95_low, ci95_high, ci_level; min <= ci95_low <= median <= ci95_high <= max.
void ParseRepeatStats(Reader& r, const Json& j, const std::string& p, const char* list, RepeatStats& out) {
  const uint64_t n = r.Unsigned(j, p, "n");
  const Json* values = r.Field(j, p, list, true);
  if (values && !values->is_array())
    r.Fail(Reader::Join(p, list), std::string("must be an array, got ") + values->type_name());
  if (!r.ok()) return;
  if (n < 1 || n != values->size())
    return r.Fail(Reader::Join(p, list),
                  "must hold n (" + std::to_string(n) + ") numbers, got " + std::to_string(values->size()));
  for (size_t i = 0; i < values->size() && r.ok(); ++i) {
    const Json& v = (*values)[i];
    const std::string q = Reader::Join(p, list) + "[" + std::to_string(i) + "]";
    if (!v.is_number() || !std::isfinite(v.get<double>()) || v.get<double>() < 0)
      r.Fail(q, "must be a finite number >= 0, got " + v.dump());
    else
      out.seconds.push_back(v.get<double>());
  }
  out.median = r.Number(j, p, "median");
  out.min = r.Number(j, p, "min");
  out.max = r.Number(j, p, "max");
  out.ci_low = r.Number(j, p, "ci95_low");
  out.ci_high = r.Number(j, p, "ci95_high");
  out.ci_level = r.Number(j, p, "ci_level");
  if (r.ok() &&
      !(out.min <= out.ci_low && out.ci_low <= out.median && out.median <= out.ci_high && out.ci_high <= out.max))
    r.Fail(p, "must have min <= ci95_low <= median <= ci95_high <= max");
  if (r.ok() && out.ci_level > 1) r.Fail(p + ".ci_level", "must be at most 1, got " + j["ci_level"].dump());
}

Json RepeatStatsJson(const RepeatStats& s, const char* list, Json j = Json::object()) {
  j["n"] = s.n();
  Json values = Json::array();
  for (double x : s.seconds) values.push_back(Finite(x));
  j[list] = std::move(values);
  j["median"] = Finite(s.median);
  j["min"] = Finite(s.min);
  j["max"] = Finite(s.max);
  j["ci95_low"] = Finite(s.ci_low);
  j["ci95_high"] = Finite(s.ci_high);
  j["ci_level"] = Finite(s.ci_level);
  return j;
}

void ParseRunRepeat(Reader& r, const Json& j, RunResult& run) {
  const Json* rep = r.Object(j, "", "repeat", false);
  if (!rep) return;
  RunRepeat& out = run.repeat.emplace();
  out.requested = static_cast<int>(std::min<uint64_t>(r.Unsigned(*rep, "repeat", "requested"), 1u << 20));
  out.warmup = static_cast<int>(std::min<uint64_t>(r.Unsigned(*rep, "repeat", "warmup"), 1u << 20));
  ParseRepeatStats(r, *rep, "repeat", "total_seconds", out.totals);
}

bool Bool(Reader& r, const Json& obj, const std::string& path, const char* key) {
  const Json* v = r.Field(obj, path, key, false);
  if (!v) return false;
  if (!v->is_boolean()) {
    r.Fail(Reader::Join(path, key), std::string("must be true or false, got ") + v->type_name());
    return false;
  }
  return v->get<bool>();
}

void ParseIo(Reader& r, const Json& j, const std::string& p, StageIo& io) {
  io.present = true;
  io.scope = r.Enum(j, p, "scope", {"stage", "streamed"});
  io.filesystem = r.String(j, p, "filesystem", false);
  io.input_files = r.Unsigned(j, p, "input_files", false);
  io.input_bytes = r.Unsigned(j, p, "input_bytes", false);
  io.device_counted = Bool(r, j, p, "device_counted");
  io.read_bytes = r.Unsigned(j, p, "read_bytes", false);
  io.device_read_bytes = r.Unsigned(j, p, "device_read_bytes", false);
  io.cache_read_bytes = r.Unsigned(j, p, "cache_read_bytes", false);
  io.write_bytes = r.Unsigned(j, p, "write_bytes", false);
  io.device_write_bytes = r.Unsigned(j, p, "device_write_bytes", false);
  io.net_rx_bytes = r.Unsigned(j, p, "net_rx_bytes", false);
  io.net_tx_bytes = r.Unsigned(j, p, "net_tx_bytes", false);
  io.net_requests = r.Unsigned(j, p, "net_requests", false);
  io.user_cpu_seconds = r.Number(j, p, "user_cpu_seconds", false);
  io.system_cpu_seconds = r.Number(j, p, "system_cpu_seconds", false);
  io.potential_caching = Bool(r, j, p, "potential_caching");
  if (const Json* c = r.Object(j, p, "cache", false)) {
    const std::string cp = p + ".cache";
    io.cache_mode = r.Enum(*c, cp, "mode", {"warm", "cold"});
    io.evict_method = r.String(*c, cp, "method", false);
    io.evicted_files = r.Unsigned(*c, cp, "evicted_files", false);
    io.evicted_bytes = r.Unsigned(*c, cp, "evicted_bytes", false);
    io.resident_bytes_after = r.Unsigned(*c, cp, "resident_bytes_after", false);
    io.cold_honoured = Bool(r, *c, cp, "honoured");
  }
  if (const Json* notes = r.Field(j, p, "notes", false)) {
    if (!notes->is_array()) r.Fail(p + ".notes", std::string("must be an array, got ") + notes->type_name());
    for (size_t i = 0; r.ok() && notes->is_array() && i < notes->size(); ++i) {
      if (!(*notes)[i].is_string())
        r.Fail(p + ".notes[" + std::to_string(i) + "]", "must be a string");
      else
        io.notes.push_back((*notes)[i].get<std::string>());
    }
  }
}

Json IoJson(const StageIo& io) {
  Json j{{"scope", io.scope},
         {"filesystem", io.filesystem},
         {"input_files", io.input_files},
         {"input_bytes", io.input_bytes},
         {"device_counted", io.device_counted},
         {"read_bytes", io.read_bytes},
         {"device_read_bytes", io.device_read_bytes},
         {"cache_read_bytes", io.cache_read_bytes},
         {"write_bytes", io.write_bytes},
         {"device_write_bytes", io.device_write_bytes},
         {"net_rx_bytes", io.net_rx_bytes},
         {"net_tx_bytes", io.net_tx_bytes},
         {"net_requests", io.net_requests},
         {"user_cpu_seconds", Finite(io.user_cpu_seconds)},
         {"system_cpu_seconds", Finite(io.system_cpu_seconds)},
         {"potential_caching", io.potential_caching},
         {"cache", Json{{"mode", io.cache_mode},
                        {"method", io.evict_method},
                        {"evicted_files", io.evicted_files},
                        {"evicted_bytes", io.evicted_bytes},
                        {"resident_bytes_after", io.resident_bytes_after},
                        {"honoured", io.cold_honoured}}}};
  j["notes"] = io.notes;
  return j;
}

void ParseTrain(Reader& r, const Json& j, TrainResult& t) {
  const std::string p = "train";
  t.present = true;
  t.device = r.String(j, p, "device");
  t.epochs = static_cast<int>(r.Unsigned(j, p, "epochs"));
  t.steps = static_cast<int64_t>(r.Unsigned(j, p, "steps"));
  t.final_loss = r.Number(j, p, "final_loss");
  t.test_accuracy = r.Number(j, p, "test_accuracy");
  t.steps_per_second = r.Number(j, p, "steps_per_second", false);
  for (auto [key, field] : kTrainDataFields)
    if (j.contains(key)) t.*field = r.Number(j, p, key);
  if (r.ok() && t.au && *t.au > 1) r.Fail(p + ".au", "must be <= 1, got " + std::to_string(*t.au));
  if (const uint64_t w = r.Unsigned(j, p, "world_size", false); j.contains("world_size") && r.ok()) {
    if (w < 1 || w > (1u << 20))
      r.Fail(p + ".world_size", "must be an integer from 1 to 1048576, got " + std::to_string(w));
    else
      t.world_size = static_cast<int>(w);
  }
  t.batch_size = static_cast<int>(r.Unsigned(j, p, "batch_size", false));
  t.global_batch_size = static_cast<int64_t>(r.Unsigned(j, p, "global_batch_size", false));
}

Json HostJson(const HostInfo& h) {
  return Json{{"hostname", h.hostname}, {"cpus", h.cpus < 0 ? 0 : h.cpus}, {"memory_bytes", h.memory_bytes},
              {"device", h.device},     {"cpu_model", h.cpu_model},        {"kernel", h.kernel}};
}

// The optional parts of several ranks (absent in single-rank and tierbench.run/1 documents).
void ParseRankStages(Reader& r, const Json& j, const std::string& p, StageResult& s) {
  s.started_unix = r.Number(j, p, "started_unix", false);
  const Json* ranks = r.Field(j, p, "ranks", false);
  if (ranks && !ranks->is_array()) r.Fail(p + ".ranks", std::string("must be an array, got ") + ranks->type_name());
  if (ranks && r.ok()) {
    for (size_t i = 0; i < ranks->size() && r.ok(); ++i) {
      std::string q = p + ".ranks[" + std::to_string(i) + "]";
      const Json& e = (*ranks)[i];
      if (!e.is_object()) {
        r.Fail(q, std::string("must be an object, got ") + e.type_name());
        break;
      }
      RankStage part;
      part.rank = static_cast<int>(std::min<uint64_t>(r.Unsigned(e, q, "rank"), 1u << 30));
      part.status = r.StatusField(e, q, "status", {"ok", "skipped", "failed", "interrupted"});
      part.seconds = r.Number(e, q, "seconds");
      part.bytes = r.Unsigned(e, q, "bytes");
      part.files = r.Unsigned(e, q, "files");
      s.ranks.push_back(std::move(part));
    }
  }
  if (r.Field(j, p, "slowest_rank", false))
    s.slowest_rank = static_cast<int>(std::min<uint64_t>(r.Unsigned(j, p, "slowest_rank"), 1u << 30));
}

void ParseWorld(Reader& r, const Json& j, RunResult& run) {
  if (r.Field(j, "", "world_size", false)) {
    uint64_t n = r.Unsigned(j, "", "world_size");
    if (r.ok() && (n < 1 || n > (1u << 20))) r.Fail("world_size", "must be 1..1048576, got " + std::to_string(n));
    run.world_size = static_cast<int>(std::min<uint64_t>(n, 1u << 20));
  }
  run.launcher = r.String(j, "", "launcher", false);
  const Json* ranks = r.Field(j, "", "ranks", false);
  if (!ranks) return;
  if (!ranks->is_array()) {
    r.Fail("ranks", std::string("must be an array, got ") + ranks->type_name());
    return;
  }
  for (size_t i = 0; i < ranks->size() && r.ok(); ++i) {
    std::string q = "ranks[" + std::to_string(i) + "]";
    const Json& e = (*ranks)[i];
    if (!e.is_object()) {
      r.Fail(q, std::string("must be an object, got ") + e.type_name());
      return;
    }
    RankInfo info;
    info.rank = static_cast<int>(std::min<uint64_t>(r.Unsigned(e, q, "rank"), 1u << 30));
    info.status = r.StatusField(e, q, "status", {"ok", "failed", "interrupted"});
    if (const Json* host = r.Object(e, q, "host")) ParseHost(r, *host, info.host, q + ".host");
    run.ranks.push_back(std::move(info));
  }
}

}  // namespace

HostInfo CollectHostInfo() {
  HostInfo h;
  char name[256] = {};
  if (gethostname(name, sizeof name - 1) == 0) h.hostname = name;
  long cpus = sysconf(_SC_NPROCESSORS_ONLN);
  h.cpus = cpus > 0 ? static_cast<int>(cpus) : 0;
  struct sysinfo si {};
  if (sysinfo(&si) == 0) h.memory_bytes = static_cast<uint64_t>(si.totalram) * si.mem_unit;
  if (auto cpuinfo = ReadFile("/proc/cpuinfo"); cpuinfo.ok())
    h.cpu_model = CpuInfoField(*cpuinfo, {"model name", "Model", "Hardware", "cpu model", "cpu"});
  struct utsname u {};
  if (uname(&u) == 0) h.kernel = std::string(u.sysname) + " " + u.release;
  h.device = "cpu";
  return h;
}

std::string ToJson(const RunResult& run) {
  Json j;
  j["schema"] = run.schema;
  j["tool_version"] = run.tool_version;
  j["scenario"] = run.scenario;
  j["label"] = run.label;
  j["started_at"] = run.started_at;
  j["status"] = StatusName(run.status);
  j["host"] = HostJson(run.host);
  j["config"] = EmbedObject(run.config_json);
  Json stages = Json::array();
  for (const StageResult& s : run.stages) {
    Json st;
    st["name"] = s.name;
    st["status"] = StatusName(s.status);
    st["seconds"] = Finite(s.seconds);
    st["busy_seconds"] = Finite(s.busy_seconds);
    st["start_s"] = Finite(s.start_s);
    st["end_s"] = Finite(s.end_s);
    st["bytes"] = s.bytes;
    st["files"] = s.files;
    st["mb_per_s"] = Finite(s.mb_per_s);
    if (s.status == StageStatus::kFailed || !s.error.empty()) st["error"] = s.error;
    st["detail"] = EmbedObject(s.detail_json);
    if (s.io.present) st["io"] = IoJson(s.io);
    if (s.started_unix > 0) st["started_unix"] = Finite(s.started_unix);
    if (s.repeat) st["repeat"] = RepeatStatsJson(*s.repeat, "seconds");
    if (!s.ranks.empty()) {
      Json ranks = Json::array();
      for (const RankStage& p : s.ranks)
        ranks.push_back(Json{{"rank", p.rank < 0 ? 0 : p.rank},
                             {"status", StatusName(p.status)},
                             {"seconds", Finite(p.seconds)},
                             {"bytes", p.bytes},
                             {"files", p.files}});
      st["ranks"] = std::move(ranks);
      if (s.slowest_rank >= 0) st["slowest_rank"] = s.slowest_rank;
    }
    stages.push_back(std::move(st));
  }
  j["stages"] = std::move(stages);
  j["total_seconds"] = Finite(run.total_seconds);
  j["overlapped_seconds"] = Finite(run.overlapped_seconds);
  if (run.repeat)
    j["repeat"] = RepeatStatsJson(
        run.repeat->totals, "total_seconds",
        Json{{"requested", std::max(run.repeat->requested, 0)}, {"warmup", std::max(run.repeat->warmup, 0)}});
  if (run.train.present) {
    const TrainResult& t = run.train;
    j["train"] = Json{{"device", t.device},
                      {"epochs", t.epochs < 0 ? 0 : t.epochs},
                      {"steps", t.steps < 0 ? 0 : t.steps},
                      {"final_loss", Finite(t.final_loss)},
                      {"test_accuracy", Finite(t.test_accuracy)},
                      {"steps_per_second", Finite(t.steps_per_second)},
                      {"world_size", t.world_size < 1 ? 1 : t.world_size},
                      {"batch_size", t.batch_size < 0 ? 0 : t.batch_size},
                      {"global_batch_size", t.global_batch_size < 0 ? 0 : t.global_batch_size}};
    for (auto [key, field] : kTrainDataFields)
      if (t.*field) j["train"][key] = Finite(*(t.*field));
  } else {
    j["train"] = nullptr;
  }
  if (run.world_size > 1 || !run.ranks.empty()) {
    j["world_size"] = run.world_size < 1 ? 1 : run.world_size;
    j["launcher"] = run.launcher;
    Json ranks = Json::array();
    for (const RankInfo& r : run.ranks)
      ranks.push_back(
          Json{{"rank", r.rank < 0 ? 0 : r.rank}, {"status", StatusName(r.status)}, {"host", HostJson(r.host)}});
    j["ranks"] = std::move(ranks);
  }
  return JsonText(j, 2) + "\n";
}

Result<RunResult> ParseRunResult(std::string_view text, const std::string& name) {
  Json j;
  try {
    j = Json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    std::string what = e.what();  // may quote bytes of the file: keep control characters out
    for (char& c : what)
      if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
    return Status::InvalidArgument(name + ": not valid JSON: " + what);
  }
  Reader r(name);
  if (!j.is_object()) {
    r.FailDoc(std::string("not a tierbench results file (top level is ") + j.type_name() + ", not an object)");
    return r.status();
  }
  RunResult run;
  run.schema = r.String(j, "", "schema");
  if (!r.ok()) return r.status();
  if (run.schema == kSchemaV1) run.schema = kSchema;  // read as /2 with the new fields absent
  if (run.schema != kSchema) {
    if (run.schema.rfind("tierbench.run/", 0) == 0)
      r.FailDoc("unsupported schema version '" + run.schema + "' (this tierbench reads " + kSchema + " and " +
                kSchemaV1 + ")");
    else
      r.FailDoc("not a tierbench results file (schema '" + run.schema + "', expected " + kSchema + ")");
    return r.status();
  }
  run.tool_version = r.String(j, "", "tool_version");
  run.scenario = r.String(j, "", "scenario");
  run.label = r.String(j, "", "label");
  run.started_at = r.String(j, "", "started_at");
  run.status = r.StatusField(j, "", "status", {"ok", "failed", "interrupted"});
  if (const Json* host = r.Object(j, "", "host")) ParseHost(r, *host, run.host);
  if (const Json* config = r.Object(j, "", "config")) run.config_json = JsonText(*config);
  if (const Json* stages = r.Field(j, "", "stages", true)) {
    if (!stages->is_array()) {
      r.Fail("stages", std::string("must be an array, got ") + stages->type_name());
    } else {
      for (size_t i = 0; i < stages->size() && r.ok(); ++i) {
        std::string p = "stages[" + std::to_string(i) + "]";
        const Json& st = (*stages)[i];
        if (!st.is_object()) {
          r.Fail(p, std::string("must be an object, got ") + st.type_name());
          break;
        }
        StageResult s;
        ParseStage(r, st, p, s);
        run.stages.push_back(std::move(s));
      }
    }
  }
  run.total_seconds = r.Number(j, "", "total_seconds");
  run.overlapped_seconds = r.Number(j, "", "overlapped_seconds", false);
  if (const Json* train = r.Field(j, "", "train", true); train && !train->is_null()) {
    if (!train->is_object())
      r.Fail("train", std::string("must be an object or null, got ") + train->type_name());
    else
      ParseTrain(r, *train, run.train);
  }
  ParseWorld(r, j, run);
  ParseRunRepeat(r, j, run);
  if (!r.ok()) return r.status();
  return run;
}

Result<RunResult> LoadRunResult(const std::string& path) {
  TB_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  return ParseRunResult(text, path);
}

}  // namespace tb::report
