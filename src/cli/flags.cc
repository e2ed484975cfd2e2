#include "cli/flags.h"

#include <cctype>
#include <cstdlib>

namespace tb::cli {

Flags::Flags(std::string usage, std::vector<FlagSpec> specs) : usage_(std::move(usage)), specs_(std::move(specs)) {}

const FlagSpec* Flags::Spec(const std::string& name) const {
  for (const auto& s : specs_)
    if (s.name == name) return &s;
  return nullptr;
}

Status Flags::Parse(const std::vector<std::string>& args) {
  bool flags_done = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (flags_done || a.size() < 2 || a[0] != '-' || a == "-") {
      positionals_.push_back(a);
      continue;
    }
    if (a == "--") {
      flags_done = true;
      continue;
    }
    if (a == "--help" || a == "-h") {
      help_ = true;
      continue;
    }
    if (a.rfind("--", 0) != 0) return Status::InvalidArgument("unknown option '" + a + "' (try --help)");
    std::string name = a.substr(2), value;
    bool has_value = false;
    if (auto eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
      has_value = true;
    }
    const FlagSpec* spec = Spec(name);
    if (!spec && name.rfind("no-", 0) == 0) {
      const FlagSpec* pos = Spec(name.substr(3));
      if (pos && pos->is_bool && !has_value) {
        values_[pos->name] = "false";
        continue;
      }
    }
    if (!spec) return Status::InvalidArgument("unknown option '--" + name + "' (try --help)");
    if (spec->is_bool) {
      if (!has_value) value = "true";
      if (value != "true" && value != "false")
        return Status::InvalidArgument("option '--" + name + "' takes true or false, got '" + value + "'");
    } else if (!has_value) {
      if (i + 1 >= args.size()) return Status::InvalidArgument("option '--" + name + "' needs a value");
      value = args[++i];
    }
    auto it = values_.find(name);
    if (spec->repeatable && it != values_.end()) it->second += "," + value;
    else values_[name] = value;
  }
  return Status::Ok();
}

std::string Flags::HelpText() const {
  std::string out = usage_ + "\n\nOptions:\n";
  for (const auto& s : specs_) {
    std::string left = "  --" + s.name + (s.is_bool ? "" : " " + s.value_name);
    if (left.size() < 30) left.resize(30, ' ');
    else left += "\n" + std::string(30, ' ');
    out += left + s.help + "\n";
  }
  out += "  --help                      show this help\n";
  return out;
}

std::optional<std::string> Flags::Find(const std::string& name) const {
  auto it = values_.find(name);
  if (it == values_.end()) return std::nullopt;
  return it->second;
}

std::string Flags::Get(const std::string& name, const std::string& def) const {
  auto v = Find(name);
  return v ? *v : def;
}

Result<int64_t> Flags::GetInt(const std::string& name, int64_t def) const {
  auto v = Find(name);
  if (!v) return def;
  char* end = nullptr;
  errno = 0;
  long long x = std::strtoll(v->c_str(), &end, 10);
  if (v->empty() || *end != '\0' || errno != 0)
    return Status::InvalidArgument("option '--" + name + "' expects an integer, got '" + *v + "'");
  return static_cast<int64_t>(x);
}

Result<double> Flags::GetDouble(const std::string& name, double def) const {
  auto v = Find(name);
  if (!v) return def;
  char* end = nullptr;
  double x = std::strtod(v->c_str(), &end);
  if (v->empty() || *end != '\0')
    return Status::InvalidArgument("option '--" + name + "' expects a number, got '" + *v + "'");
  return x;
}

bool Flags::GetBool(const std::string& name, bool def) const {
  auto v = Find(name);
  if (!v) return def;
  return *v == "true";
}

}  // namespace tb::cli
