// A small command-line parser shared by every verb: "--name value", "--name=value",
// boolean "--name" / "--no-name", positionals, "--" ends flags. Unknown flags are a usage
// error (exit 2) naming the flag. Each verb declares its flags so --help is generated.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "util/status.h"
#include "util/units.h"

namespace tb::cli {

struct FlagSpec {
  std::string name;       // without "--"
  std::string help;
  bool is_bool = false;
  std::string value_name = "VALUE";
  bool repeatable = false;  // repeated uses join with ',' (else the last one wins)
};

class Flags {
 public:
  Flags(std::string usage, std::vector<FlagSpec> specs);
  // Parses args (verb already removed). --help sets help_requested().
  Status Parse(const std::vector<std::string>& args);

  bool help_requested() const { return help_; }
  std::string HelpText() const;
  bool Has(const std::string& name) const { return values_.count(name) > 0; }
  std::string Get(const std::string& name, const std::string& def = "") const;
  std::optional<std::string> Find(const std::string& name) const;
  Result<int64_t> GetInt(const std::string& name, int64_t def) const;
  Result<double> GetDouble(const std::string& name, double def) const;
  // Bool flags: true for "--x", false for "--no-x", def when absent.
  bool GetBool(const std::string& name, bool def) const;
  const std::vector<std::string>& positionals() const { return positionals_; }

 private:
  const FlagSpec* Spec(const std::string& name) const;
  std::string usage_;
  std::vector<FlagSpec> specs_;
  std::map<std::string, std::string> values_;
  std::vector<std::string> positionals_;
  bool help_ = false;
};

using ::tb::ParseBytes;  // util/units.h

}  // namespace tb::cli
