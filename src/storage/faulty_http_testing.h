// tests/tools/faulty_http.py for storage tests (header-only, GoogleTest): a file server over a
// TempDir (--root, the default) or, with "--upstream URL" among the flags, a proxy in front
// of another server (RGW); the fault flags as on its command line. Stopped by pid at scope
// exit.
#pragma once

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "storage/transfer.h"
#include "util/fs.h"
#include "util/testing.h"

namespace tb::storage::testing {

class FaultyHttp {
 public:
  explicit FaultyHttp(std::vector<std::string> flags) {
    std::string script = std::string(TB_SOURCE_DIR) + "/tests/tools/faulty_http.py";
    if (!std::filesystem::exists(script)) return;
    std::vector<std::string> argv = {"/usr/bin/python3", script, "--port-file", port_dir_ / "port", "--quiet"};
    if (std::find(flags.begin(), flags.end(), "--upstream") == flags.end()) {
      argv.insert(argv.end(), {"--root", root_.path()});
    }
    argv.insert(argv.end(), flags.begin(), flags.end());
    pid_ = fork();
    if (pid_ == 0) {
      std::vector<char*> cargv;
      for (auto& a : argv) cargv.push_back(a.data());
      cargv.push_back(nullptr);
      execv(cargv[0], cargv.data());
      _exit(127);
    }
    for (int i = 0; i < 100; ++i) {  // the port file appears atomically once listening
      auto port = ReadFile(port_dir_ / "port");
      if (port.ok() && !port->empty() && port->back() == '\n') {
        url_ = "http://127.0.0.1:" + port->substr(0, port->size() - 1);
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
  ~FaultyHttp() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      waitpid(pid_, nullptr, 0);
    }
  }
  FaultyHttp(const FaultyHttp&) = delete;
  FaultyHttp& operator=(const FaultyHttp&) = delete;

  const std::string& url() const { return url_; }  // "" when it could not start
  const ::tb::testing::TempDir& root() const { return root_; }
  // The body of a control URL (/__control/ACTION?QUERY), fetched with our own client.
  std::string Control(const std::string& action) const {
    auto r = OpenStream(url_ + "/__control/" + action, Options());
    if (!r.ok()) return r.status().ToString();
    std::string out, buf(1 << 16, '\0');
    for (;;) {
      auto n = (*r)->Read(buf.data(), buf.size());
      if (!n.ok()) return n.status().ToString();
      if (*n == 0) return out;
      out.append(buf.data(), *n);
    }
  }
  // The request log from /__control/stats.
  std::string Stats() const { return Control("stats"); }
  // Waits until a request is held (fault hold or hold-request); false if none is within
  // `seconds` (a bound against a hang, not a timing assertion).
  bool WaitHeld(double seconds = 60) const {
    for (auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
         std::chrono::steady_clock::now() < until;) {
      std::string s = Stats();
      if (s.find("\"held\": []") == std::string::npos && s.find("\"held\": [") != std::string::npos) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
  }

 private:
  ::tb::testing::TempDir root_, port_dir_;
  pid_t pid_ = -1;
  std::string url_;
};

}  // namespace tb::storage::testing
