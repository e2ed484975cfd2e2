// The c10d cluster: ranks in several processes (and hosts) meet at a TCPStore on the
// rendezvous host and average buffers through ProcessGroupGloo.
//
// Store keys (under "tierbench/"): rank/<r> (who claimed rank r: a duplicate is refused), size
// (the world size the first rank registered: a different one is refused), host/<r>, beat/<r>
// (a heartbeat counter), done/<r> (rank r finished), abort (the first fatal error any rank
// saw; every rank stops with it) and c/<seq>/<r> (rank r's value of collective number seq).
// Barrier and AllGather go through the store, so a missing rank is named; AllReduceMean goes
// through Gloo. A monitor thread beats every second on its own connection and watches the next
// rank's beat: silent for World::heartbeat_timeout_s, that rank is lost.
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <ATen/ATen.h>
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <random>
#include <thread>

#include "launch/cluster.h"
#include "train/plugin_abi.h"

namespace tb::train::torchplugin {
namespace {

using launch::ClusterOptions;
using launch::World;
using Clock = std::chrono::steady_clock;

constexpr size_t kMaxGatherBytes = 256u << 20;  // one rank's AllGather value
const std::string kPrefix = "tierbench/";

std::vector<uint8_t> Bytes(const std::string& s) { return {s.begin(), s.end()}; }
std::string Text(const std::vector<uint8_t>& b) { return {b.begin(), b.end()}; }

// c10d's messages carry a C++ backtrace after the first line.
std::string FirstLine(const std::exception& e) {
  std::string what = e.what();
  return what.substr(0, what.find('\n'));
}

std::chrono::milliseconds Millis(double seconds) {
  return std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000));
}

std::string Seconds(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", s);
  return buf;
}

bool IsLoopback(const std::string& addr) { return addr.rfind("127.", 0) == 0 || addr == "::1" || addr == "localhost"; }

// The local address of the route to host:port (a UDP connect sends nothing).
Result<std::string> LocalAddressFor(const std::string& host, int port) {
  addrinfo hints{}, *res = nullptr;
  hints.ai_socktype = SOCK_DGRAM;
  if (int rc = getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &res); rc != 0)
    return Status::Network("rendezvous host '" + host + "': " + gai_strerror(rc));
  std::string out;
  for (addrinfo* a = res; a && out.empty(); a = a->ai_next) {
    int fd = socket(a->ai_family, SOCK_DGRAM, 0);
    if (fd < 0) continue;
    sockaddr_storage local{};
    socklen_t len = sizeof local;
    if (connect(fd, a->ai_addr, a->ai_addrlen) == 0 &&
        getsockname(fd, reinterpret_cast<sockaddr*>(&local), &len) == 0) {
      char buf[INET6_ADDRSTRLEN] = {};
      const void* src = local.ss_family == AF_INET
                            ? static_cast<const void*>(&reinterpret_cast<sockaddr_in*>(&local)->sin_addr)
                            : static_cast<const void*>(&reinterpret_cast<sockaddr_in6*>(&local)->sin6_addr);
      if (inet_ntop(local.ss_family, src, buf, sizeof buf)) out = buf;
    }
    close(fd);
  }
  freeaddrinfo(res);
  if (out.empty()) return Status::Network("no route to the rendezvous host '" + host + "'");
  return out;
}

// The first IPv4 address of an interface that is up and not loopback ("" when none).
std::string FirstExternalAddress() {
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return "";
  std::string out;
  for (ifaddrs* i = list; i && out.empty(); i = i->ifa_next) {
    if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET || !(i->ifa_flags & IFF_UP) || (i->ifa_flags & IFF_LOOPBACK))
      continue;
    char buf[INET_ADDRSTRLEN] = {};
    if (inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(i->ifa_addr)->sin_addr, buf, sizeof buf)) out = buf;
  }
  freeifaddrs(list);
  return out;
}

class C10dCluster : public launch::Cluster {
 public:
  C10dCluster(World world, ClusterOptions options) : world_(std::move(world)), options_(std::move(options)) {
    hosts_.assign(world_.size, "");
    std::random_device rd;
    identity_ = world_.host + " pid " + std::to_string(getpid()) + " #" + std::to_string(rd());
  }

  ~C10dCluster() override {
    stopping_ = true;
    if (store_) {
      try {
        store_->set(Key("done/" + std::to_string(world_.rank)), Bytes("1"));
        // Rank 0 serves the store: it stays until the others are done, within a bound (a
        // short one after a failure: long enough for the others to read the abort key).
        if (server_) {
          std::vector<std::string> keys;
          for (int r = 0; r < world_.size; ++r) keys.push_back(Key("done/" + std::to_string(r)));
          double linger = registered_ && Lost().ok() ? std::min(world_.timeout_s, 60.0) : 2.0;
          auto until = Clock::now() + Millis(linger);
          while (Clock::now() < until && !store_->check(keys))
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
      } catch (const std::exception&) {}
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_monitor_ = true;
    }
    cv_.notify_all();
    if (monitor_.joinable()) monitor_.join();
    pg_.reset();
    beat_store_.reset();
    store_.reset();
  }

  const World& world() const override { return world_; }

  Status Connect() {
    std::string where = world_.rendezvous_addr + ":" + std::to_string(world_.rendezvous_port);
    server_ = world_.rank == 0 && !world_.agent_store;
    c10d::TCPStoreOptions opts;
    opts.port = static_cast<uint16_t>(world_.rendezvous_port);
    opts.isServer = server_;
    opts.waitWorkers = false;
    opts.timeout = Millis(world_.timeout_s);
    try {
      store_ = c10::make_intrusive<c10d::TCPStore>(world_.rendezvous_addr, opts);
      opts.isServer = false;
      beat_store_ = c10::make_intrusive<c10d::TCPStore>(world_.rendezvous_addr, opts);
    } catch (const std::exception& e) {
      std::string role = server_ ? "serving the rendezvous store on port " + std::to_string(world_.rendezvous_port)
                                 : "reaching the rendezvous store at " + where;
      std::string server = world_.agent_store ? "the launcher's agent (TORCHELASTIC_USE_AGENT_STORE)" : "rank 0";
      return Status::Network("rank " + std::to_string(world_.rank) + " (" + world_.host + "): " + role +
                             " failed within " + Seconds(world_.timeout_s) + " s (is " + server + " running, and is " +
                             where + " its address?): " + FirstLine(e));
    }
    Log("rendezvous store " + where + (server_ ? " (served by this rank)" : ""));
    TB_RETURN_IF_ERROR(Guard([&] { return Register(where); }));
    registered_ = true;
    monitor_ = std::thread([this] { Monitor(); });
    return Guard([&] { return StartGloo(); });
  }

  Status Barrier(const std::string& tag) override {
    return Guard([&] { return Exchange(tag, "", nullptr); });
  }

  Result<std::vector<std::string>> AllGather(const std::string& tag, const std::string& mine) override {
    if (mine.size() > kMaxGatherBytes)
      return Status::InvalidArgument("collective '" + tag + "': this rank's value is " + std::to_string(mine.size()) +
                                     " bytes, more than the limit of " + std::to_string(kMaxGatherBytes));
    std::vector<std::string> out;
    TB_RETURN_IF_ERROR(Guard([&] { return Exchange(tag, mine, &out); }));
    return out;
  }

  Status AllReduceMean(float* data, size_t n) override {
    TB_RETURN_IF_ERROR(Lost());
    if (n == 0) return Status::Ok();
    try {
      at::Tensor t = at::from_blob(data, {static_cast<int64_t>(n)}, at::kFloat);
      std::vector<at::Tensor> tensors{t};
      pg_->allreduce(tensors)->wait(Millis(world_.timeout_s));
      t.div_(world_.size);
      return Status::Ok();
    } catch (const std::exception& e) {
      // A peer that died closes its connections at once; the monitor names it soon after.
      auto until = Clock::now() + Millis(world_.heartbeat_timeout_s + 5);
      while (Lost().ok() && Clock::now() < until) std::this_thread::sleep_for(std::chrono::milliseconds(100));
      if (!Lost().ok()) return Lost().Prefix("all-reduce");
      return Status::Network("all-reduce over Gloo failed: " + FirstLine(e));
    }
  }

 private:
  std::string Key(const std::string& k) const { return kPrefix + k; }
  std::string Name(int r) const {
    return "rank " + std::to_string(r) + (hosts_[r].empty() ? "" : " (host " + hosts_[r] + ")");
  }
  void Log(const std::string& line) {
    if (options_.log) options_.log("cluster: " + line);
  }

  Status Lost() {
    std::lock_guard<std::mutex> lock(mu_);
    return lost_;
  }

  // Records the first fatal error, tells the caller, and lets the other ranks know.
  void SetLost(const Status& s, bool publish) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!lost_.ok()) return;
      lost_ = s;
      lost_at_ = Clock::now();
    }
    if (publish) {
      try {
        beat_store_->compareSet(Key("abort"), {}, Bytes(s.message()));
      } catch (const std::exception&) {}
    }
    if (options_.on_lost && !stopping_) options_.on_lost(s);
  }

  // Store errors (rank 0 gone) as a Status naming rank 0.
  Status Guard(const std::function<Status()>& fn) {
    try {
      return fn();
    } catch (const std::exception& e) {
      if (!Lost().ok()) return Lost();
      return Status::Network(Name(0) + ", which serves the rendezvous store at " + world_.rendezvous_addr + ":" +
                             std::to_string(world_.rendezvous_port) + ", stopped answering: " + FirstLine(e));
    }
  }

  Status Fail(const Status& s) {
    SetLost(s, true);
    return s;
  }

  Status Register(const std::string& where) {
    std::string r = std::to_string(world_.rank);
    std::string claimed = Text(store_->compareSet(Key("rank/" + r), {}, Bytes(identity_)));
    if (claimed != identity_)
      return Fail(Status::InvalidArgument("two processes claim rank " + r + ": " + claimed + " and " + identity_ +
                                          " (each rank needs its own RANK / launcher slot)"));
    std::string size_mine = std::to_string(world_.size) + " " + Name(world_.rank);
    std::string size_first = Text(store_->compareSet(Key("size"), {}, Bytes(size_mine)));
    if (size_first != size_mine && size_first.substr(0, size_first.find(' ')) != std::to_string(world_.size)) {
      std::string other = size_first.substr(size_first.find(' ') + 1);
      return Fail(Status::InvalidArgument("world sizes differ: " + Name(world_.rank) + " was started for " +
                                          std::to_string(world_.size) + " ranks, " + other + " for " +
                                          size_first.substr(0, size_first.find(' '))));
    }
    store_->set(Key("host/" + r), Bytes(world_.host));
    std::vector<std::string> keys;
    for (int q = 0; q < world_.size; ++q) keys.push_back(Key("host/" + std::to_string(q)));
    TB_RETURN_IF_ERROR(WaitFor(keys, "the rendezvous at " + where));
    for (int q = 0; q < world_.size; ++q) hosts_[q] = Text(store_->get(keys[q]));
    Log("all " + std::to_string(world_.size) + " ranks arrived");
    return Status::Ok();
  }

  Status StartGloo() {
    std::shared_ptr<::gloo::transport::Device> device;
    std::string why;
    if (!world_.interface.empty()) {
      device = c10d::ProcessGroupGloo::createDeviceForInterface(world_.interface);
      why = "interface " + world_.interface;
    } else {
      // The address this host reaches the rendezvous host from. The host name may resolve to
      // loopback (Debian maps it to 127.0.1.1), which other hosts cannot reach.
      TB_ASSIGN_OR_RETURN(std::string addr, LocalAddressFor(world_.rendezvous_addr, world_.rendezvous_port));
      why = "the route to " + world_.rendezvous_addr;
      if (IsLoopback(addr) && !IsLoopback(world_.rendezvous_addr) && world_.local_size < world_.size) {
        std::string external = FirstExternalAddress();
        if (!external.empty()) {
          why = "the first external address: " + world_.rendezvous_addr +
                " is this host's loopback; "
                "cluster.interface chooses";
          addr = external;
        }
      }
      device = c10d::ProcessGroupGloo::createDeviceForHostname(addr);
    }
    Log("gloo device " + device->str() + " (" + why + ")");
    auto options = c10d::ProcessGroupGloo::Options::create(Millis(world_.timeout_s));
    options->devices.push_back(device);
    options->threads = 1;
    try {
      pg_ = c10::make_intrusive<c10d::ProcessGroupGloo>(c10::make_intrusive<c10d::PrefixStore>(Key("gloo"), store_),
                                                        world_.rank, world_.size, options);
    } catch (const std::exception& e) {
      if (!Lost().ok()) return Lost();
      return Status::Network("connecting the ranks over Gloo (" + device->str() + ") failed: " + FirstLine(e) +
                             " (set cluster.interface to the network the hosts share)");
    }
    return Status::Ok();
  }

  // Returns once every key exists. Fails at once when a rank is lost, another rank aborted, or
  // a rank we wait for has finished; after World::timeout_s, names the ranks whose key is missing.
  Status WaitFor(const std::vector<std::string>& keys, const std::string& what) {
    auto start = Clock::now(), deadline = start + Millis(world_.timeout_s);
    auto next_slow_check = start;
    auto pause = std::chrono::milliseconds(1);
    while (!store_->check(keys)) {
      TB_RETURN_IF_ERROR(Lost());
      auto now = Clock::now();
      bool late = now >= deadline;
      if (store_->check({Key("abort")})) {
        Status s = Status::Network(Text(store_->get(Key("abort"))));
        SetLost(s, false);
        return s;
      }
      if (late || now >= next_slow_check) {
        next_slow_check = now + std::chrono::seconds(1);
        std::string missing, left;
        for (int r = 0; r < static_cast<int>(keys.size()); ++r) {
          if (store_->check({keys[r]})) continue;
          missing += (missing.empty() ? "" : ", ") + Name(r);
          if (store_->check({Key("done/" + std::to_string(r))})) left += (left.empty() ? "" : ", ") + Name(r);
        }
        if (!left.empty())
          return Fail(Status::Network(what + ": " + left + " finished and left the run without joining"));
        if (late)
          return Fail(Status::Network(what + ": " + missing + " did not arrive within " + Seconds(world_.timeout_s) +
                                      " s (cluster.timeout)"));
      }
      std::this_thread::sleep_for(pause);
      pause = std::min(pause * 2, std::chrono::milliseconds(100));
    }
    return Status::Ok();
  }

  Status Exchange(const std::string& tag, const std::string& mine, std::vector<std::string>* out) {
    TB_RETURN_IF_ERROR(Lost());
    uint64_t seq = ++seq_;
    auto key = [&](uint64_t s, int r) { return Key("c/" + std::to_string(s) + "/" + std::to_string(r)); };
    store_->set(key(seq, world_.rank), Bytes(tag + '\n' + mine));
    // Every rank has read collective seq-2 before any entered seq-1: this rank's value goes.
    if (seq > 2) store_->deleteKey(key(seq - 2, world_.rank));
    std::vector<std::string> keys;
    for (int r = 0; r < world_.size; ++r) keys.push_back(key(seq, r));
    TB_RETURN_IF_ERROR(WaitFor(keys, "collective '" + tag + "'"));
    for (int r = 0; r < world_.size; ++r) {
      if (!out && r == world_.rank) continue;
      std::string v = Text(store_->get(keys[r]));
      size_t nl = v.find('\n');
      std::string their_tag = v.substr(0, nl);
      if (their_tag != tag)
        return Fail(Status::Internal(Name(r) + " is in collective '" + their_tag + "' while " + Name(world_.rank) +
                                     " is in '" + tag + "'"));
      if (out) out->push_back(nl == std::string::npos ? "" : v.substr(nl + 1));
    }
    return Status::Ok();
  }

  void Monitor() {
    const int watched = (world_.rank + 1) % world_.size;
    const std::string beat = Key("beat/" + std::to_string(world_.rank));
    const std::string watched_beat = Key("beat/" + std::to_string(watched));
    int64_t last = -1;
    auto last_change = Clock::now();
    bool watching = true;
    std::unique_lock<std::mutex> lock(mu_);
    while (!stop_monitor_) {
      bool lost = !lost_.ok();
      auto lost_at = lost_at_;
      lock.unlock();
      if (lost) {
        // The process had heartbeat_timeout_s to stop on its own after the loss.
        if (Clock::now() - lost_at > Millis(world_.heartbeat_timeout_s) && !stopping_) {
          std::fprintf(stderr, "tierbench: %s; still running %s s later: exiting\n", Lost().message().c_str(),
                       Seconds(world_.heartbeat_timeout_s).c_str());
          std::fflush(stderr);
          _exit(1);
        }
      } else {
        try {
          beat_store_->add(beat, 1);
          if (beat_store_->check({Key("abort")})) {
            SetLost(Status::Network(Text(beat_store_->get(Key("abort")))), false);
          } else if (watching && watched != world_.rank) {
            int64_t v = beat_store_->add(watched_beat, 0);
            if (v != last) {
              last = v;
              last_change = Clock::now();
            } else if (Clock::now() - last_change > Millis(world_.heartbeat_timeout_s)) {
              if (beat_store_->check({Key("done/" + std::to_string(watched))})) {
                watching = false;  // it finished
              } else {
                SetLost(Status::Network(Name(watched) + " is lost: no heartbeat for " +
                                        Seconds(world_.heartbeat_timeout_s) +
                                        " s (its process died or hangs; cluster.heartbeat_timeout)"),
                        true);
              }
            }
          }
        } catch (const std::exception& e) {
          if (!stopping_)
            SetLost(Status::Network(Name(0) + " is lost: the rendezvous store it serves at " + world_.rendezvous_addr +
                                    ":" + std::to_string(world_.rendezvous_port) + " stopped answering (" +
                                    FirstLine(e) + ")"),
                    false);
        }
      }
      lock.lock();
      cv_.wait_for(lock, std::chrono::seconds(1), [&] { return stop_monitor_; });
    }
  }

  World world_;
  ClusterOptions options_;
  std::string identity_;
  std::vector<std::string> hosts_;
  bool server_ = false;
  bool registered_ = false;
  c10::intrusive_ptr<c10d::TCPStore> store_, beat_store_;
  c10::intrusive_ptr<c10d::ProcessGroupGloo> pg_;
  uint64_t seq_ = 0;
  std::atomic<bool> stopping_{false};
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_monitor_ = false;
  Status lost_;
  Clock::time_point lost_at_;
  std::thread monitor_;
};

}  // namespace
}  // namespace tb::train::torchplugin

extern "C" __attribute__((visibility("default"))) void tb_torch_open_cluster(
    const tb::launch::World* world, const tb::launch::ClusterOptions* options,
    std::unique_ptr<tb::launch::Cluster>* cluster, tb::Status* status) {
  using tb::train::torchplugin::C10dCluster;
  try {
    auto c = std::make_unique<C10dCluster>(*world, *options);
    *status = c->Connect();
    if (status->ok()) *cluster = std::move(c);
  } catch (const std::exception& e) {
    *status = tb::Status::Internal(std::string("c10d cluster: ") + e.what());
  }
}
