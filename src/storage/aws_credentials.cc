#include "storage/aws_credentials.h"

#include <cctype>
#include <cstdlib>
#include <filesystem>

#include "util/fs.h"

namespace tb::storage {
namespace {

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

std::string Trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return std::string(s.substr(b, e - b));
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string HomePath(const char* rel) {
  std::string home = Env("HOME");
  return (home.empty() ? std::string(".") : home) + rel;
}

// Reads an INI file; a missing file is an empty one.
Result<IniFile> LoadIni(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return IniFile{};
  TB_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  return ParseIni(text, path);
}

const std::map<std::string, std::string>* Section(const IniFile& ini, const std::string& name) {
  auto it = ini.find(name);
  return it == ini.end() ? nullptr : &it->second;
}

std::string Get(const std::map<std::string, std::string>* sec, const std::string& key) {
  if (!sec) return "";
  auto it = sec->find(key);
  return it == sec->end() ? "" : it->second;
}

std::string StripSlash(std::string url) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

}  // namespace

Result<IniFile> ParseIni(const std::string& text, const std::string& path_for_errors) {
  IniFile ini;
  std::string section;
  bool have_section = false;
  std::string parent_key;  // for indented sub-keys
  size_t pos = 0;
  int line_no = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    std::string_view raw(text.data() + pos, (nl == std::string::npos ? text.size() : nl) - pos);
    pos = nl == std::string::npos ? text.size() : nl + 1;
    ++line_no;
    bool indented = !raw.empty() && (raw[0] == ' ' || raw[0] == '\t');
    std::string line = Trim(raw);
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;
    auto err = [&](const char* what) {
      return Status::InvalidArgument(path_for_errors + ":" + std::to_string(line_no) + ": " + what);
    };
    if (line[0] == '[') {
      if (line.back() != ']') return err("unterminated section header");
      section = Trim(line.substr(1, line.size() - 2));
      // "[profile  x]" -> "profile x"
      if (section.starts_with("profile") && section.size() > 7 && std::isspace(static_cast<unsigned char>(section[7]))) {
        section = "profile " + Trim(section.substr(7));
      }
      have_section = true;
      ini[section];
      parent_key.clear();
      continue;
    }
    size_t eq = line.find('=');
    if (eq == std::string::npos) return err("expected 'key = value'");
    if (!have_section) return err("key outside any section");
    std::string key = Lower(Trim(line.substr(0, eq)));
    std::string value = Trim(line.substr(eq + 1));
    if (key.empty()) return err("empty key");
    if (indented && !parent_key.empty()) {
      ini[section][parent_key + "." + key] = value;
      continue;
    }
    parent_key = value.empty() ? key : "";
    ini[section][key] = value;
  }
  return ini;
}

std::string AwsConfig::Describe() const {
  std::string key = access_key_id.size() > 8
                        ? access_key_id.substr(0, 4) + "…" + access_key_id.substr(access_key_id.size() - 3)
                        : std::string("…");
  return "AwsConfig{key " + key + ", region " + region + ", endpoint " + endpoint_url +
         ", source " + source + "}";
}

Result<AwsConfig> ResolveAwsConfig(const Options& options) {
  AwsConfig cfg;
  std::string profile = !options.profile.empty() ? options.profile : Env("AWS_PROFILE");
  bool explicit_profile = !profile.empty();
  if (profile.empty()) profile = "default";
  std::string creds_path = Env("AWS_SHARED_CREDENTIALS_FILE");
  if (creds_path.empty()) creds_path = HomePath("/.aws/credentials");
  std::string config_path = Env("AWS_CONFIG_FILE");
  if (config_path.empty()) config_path = HomePath("/.aws/config");

  TB_ASSIGN_OR_RETURN(IniFile creds_ini, LoadIni(creds_path));
  TB_ASSIGN_OR_RETURN(IniFile config_ini, LoadIni(config_path));
  const auto* creds_sec = Section(creds_ini, profile);
  const auto* config_sec = Section(config_ini, profile == "default" ? "default" : "profile " + profile);
  if (explicit_profile && !creds_sec && !config_sec) {
    return Status::InvalidArgument("AWS profile '" + profile + "' not found in " + creds_path +
                                   " or " + config_path);
  }

  bool env_keys = !Env("AWS_ACCESS_KEY_ID").empty() && !Env("AWS_SECRET_ACCESS_KEY").empty();
  if (env_keys && options.profile.empty()) {
    cfg.access_key_id = Env("AWS_ACCESS_KEY_ID");
    cfg.secret_access_key = Env("AWS_SECRET_ACCESS_KEY");
    cfg.session_token = Env("AWS_SESSION_TOKEN");
    cfg.source = "environment";
  } else {
    for (const auto* sec : {creds_sec, config_sec}) {
      if (!cfg.access_key_id.empty() || !sec) continue;
      cfg.access_key_id = Get(sec, "aws_access_key_id");
      cfg.secret_access_key = Get(sec, "aws_secret_access_key");
      cfg.session_token = Get(sec, "aws_session_token");
      cfg.source = "profile '" + profile + "' in " + (sec == creds_sec ? creds_path : config_path);
    }
    if (!cfg.access_key_id.empty() && cfg.secret_access_key.empty()) {
      return Status::InvalidArgument("AWS " + cfg.source + " has aws_access_key_id but no aws_secret_access_key");
    }
    if (cfg.access_key_id.empty()) {
      return Status::PermissionDenied(
          "no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or a profile in " +
          creds_path + " (profile '" + profile + "')");
    }
    cfg.profile = profile;
  }

  cfg.region = options.region;
  for (const char* var : {"AWS_REGION", "AWS_DEFAULT_REGION"}) {
    if (cfg.region.empty()) cfg.region = Env(var);
  }
  if (cfg.region.empty()) cfg.region = Get(config_sec, "region");
  if (cfg.region.empty()) cfg.region = "us-east-1";

  cfg.endpoint_url = options.endpoint_url;
  for (const char* var : {"AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"}) {
    if (cfg.endpoint_url.empty()) cfg.endpoint_url = Env(var);
  }
  if (cfg.endpoint_url.empty()) cfg.endpoint_url = Get(config_sec, "s3.endpoint_url");
  if (cfg.endpoint_url.empty()) cfg.endpoint_url = Get(config_sec, "endpoint_url");
  if (cfg.endpoint_url.empty()) cfg.endpoint_url = "https://s3." + cfg.region + ".amazonaws.com";
  cfg.endpoint_url = StripSlash(cfg.endpoint_url);
  if (!cfg.endpoint_url.starts_with("http://") && !cfg.endpoint_url.starts_with("https://")) {
    return Status::InvalidArgument("S3 endpoint URL must start with http:// or https://: " +
                                   cfg.endpoint_url);
  }
  return cfg;
}

}  // namespace tb::storage
