#include "report/io_columns.h"

#include <cstdio>

#include "report/compare.h"
#include "report/text_table.h"

namespace tb::report {
namespace {

constexpr const char* kDash = "\u2014";

std::string Mb(uint64_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", static_cast<double>(bytes) / 1e6);
  return buf;
}

bool Ran(const StageResult& s) { return s.io.present && s.status != StageStatus::kSkipped; }

bool NotHonoured(const StageIo& io) { return io.cache_mode == "cold" && io.evicted_files > 0 && !io.cold_honoured; }

// The note explaining why a cold read was not honoured (the last such note).
std::string ColdNote(const StageIo& io) {
  for (auto it = io.notes.rbegin(); it != io.notes.rend(); ++it)
    if (it->rfind("cold cache not honoured", 0) == 0) return *it;
  return "cold cache not honoured";
}

}  // namespace

Result<IoColumns> ParseIoColumns(std::string_view list) {
  IoColumns c;
  size_t pos = 0;
  while (pos <= list.size()) {
    size_t comma = list.find(',', pos);
    if (comma == std::string_view::npos) comma = list.size();
    std::string_view name = list.substr(pos, comma - pos);
    pos = comma + 1;
    if (name.empty()) continue;
    if (name == "all")
      c.device = c.cache = c.net = c.cpu = true;
    else if (name == "device")
      c.device = true;
    else if (name == "cache")
      c.cache = true;
    else if (name == "net")
      c.net = true;
    else if (name == "cpu")
      c.cpu = true;
    else
      return Status::InvalidArgument("--columns: unknown column '" + TextTable::Sanitize(name.substr(0, 64)) +
                                     "' (known: device, cache, net, cpu, all)");
  }
  return c;
}

std::vector<std::string> IoColumnHeads(const IoColumns& columns) {
  std::vector<std::string> heads;
  if (columns.device) heads.push_back("Device MB");
  if (columns.cache) heads.push_back("Cache MB");
  if (columns.net) {
    heads.push_back("Net MB");
    heads.push_back("Requests");
  }
  if (columns.cpu) heads.push_back("CPU s");
  return heads;
}

std::vector<std::string> IoColumnCells(const StageResult& s, const IoColumns& columns) {
  std::vector<std::string> cells;
  const StageIo& io = s.io;
  bool ran = Ran(s);
  bool counted = ran && io.device_counted;
  if (columns.device) cells.push_back(counted ? Mb(io.device_read_bytes) : kDash);
  if (columns.cache) cells.push_back(counted ? Mb(io.cache_read_bytes) + (io.potential_caching ? "*" : "") : kDash);
  if (columns.net) {
    cells.push_back(ran ? Mb(io.net_rx_bytes + io.net_tx_bytes) : kDash);
    cells.push_back(ran ? std::to_string(io.net_requests) : kDash);
  }
  if (columns.cpu) cells.push_back(ran ? FormatSeconds(io.user_cpu_seconds + io.system_cpu_seconds) : kDash);
  return cells;
}

std::string IoNotes(const RunResult& run, const std::string& prefix) {
  std::string out;
  for (const StageResult& s : run.stages) {
    if (!Ran(s)) continue;
    if (NotHonoured(s.io)) out += TextTable::Sanitize(prefix + s.name + ": " + ColdNote(s.io)) + "\n";
    if (s.io.potential_caching)
      out += TextTable::Sanitize(prefix + s.name + ": potential caching (" + Mb(s.io.device_read_bytes) + " of " +
                                 Mb(s.io.input_bytes) + " MB input from a device, " + s.io.cache_mode + " cache)") +
             "\n";
  }
  return out;
}

std::string IoTableHtml(const RunResult& run) {
  bool any = false;
  for (const StageResult& s : run.stages) any |= Ran(s);
  if (!any) return "";
  std::string h =
      "<h3>Where the bytes came from</h3>\n<table class=\"stages io\">\n<thead><tr><th>Stage</th><th>Cache</th>"
      "<th>Device MB</th><th>Cache MB</th><th>Net MB ↓</th><th>Net MB ↑</th><th>Requests</th><th>CPU user s</th>"
      "<th>CPU sys s</th><th>Note</th></tr></thead>\n<tbody>\n";
  for (const StageResult& s : run.stages) {
    if (!Ran(s)) continue;
    const StageIo& io = s.io;
    std::string cache = io.cache_mode;
    if (io.cache_mode == "cold" && io.evicted_files > 0) cache += io.cold_honoured ? " (evicted)" : " (not honoured)";
    std::string note;
    for (const auto& n : io.notes) note += (note.empty() ? "" : "; ") + n;
    if (io.scope == "streamed") note = "counters shared by the streamed stages" + (note.empty() ? "" : "; " + note);
    std::string cached = io.potential_caching ? " class=\"failed\"" : "";
    h += "<tr><td>" + EscapeXml(s.name) + "</td><td>" + EscapeXml(cache) + "</td><td>" +
         (io.device_counted ? Mb(io.device_read_bytes) : kDash) + "</td><td" + cached + ">" +
         (io.device_counted ? Mb(io.cache_read_bytes) + (io.potential_caching ? " (potential caching)" : "") : kDash) +
         "</td><td>" + Mb(io.net_rx_bytes) + "</td><td>" + Mb(io.net_tx_bytes) + "</td><td>" +
         std::to_string(io.net_requests) + "</td><td>" + FormatSeconds(io.user_cpu_seconds) + "</td><td>" +
         FormatSeconds(io.system_cpu_seconds) + "</td><td class=\"note-cell\">" + EscapeXml(note) + "</td></tr>\n";
  }
  return h + "</tbody>\n</table>\n";
}

}  // namespace tb::report
