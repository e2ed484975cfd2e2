#include "launch/world.h"

#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <optional>

#include "util/fs.h"

namespace tb::launch {
namespace {

constexpr int kDefaultPort = 29500;

// The variables of one launcher, read as text; `source` names them in errors.
struct Raw {
  std::string launcher;
  std::optional<std::string> rank, size, local_rank, local_size;
  std::string rank_var, size_var, local_rank_var, local_size_var;
};

Result<int> ParseCount(const std::string& var, const std::string& text, int lo, int hi) {
  errno = 0;
  char* end = nullptr;
  long long v = std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || errno != 0 || text.find_first_not_of("0123456789") != std::string::npos)
    return Status::InvalidArgument(var + "='" + text + "': not a non-negative integer");
  if (v < lo || v > hi)
    return Status::InvalidArgument(var + "=" + text + ": out of range " + std::to_string(lo) + ".." +
                                   std::to_string(hi));
  return static_cast<int>(v);
}

std::string ThisHost() {
  char buf[256] = {};
  if (gethostname(buf, sizeof buf - 1) != 0) return "localhost";
  return buf;
}

// "2(x3),1" (SLURM_TASKS_PER_NODE): the task count of node `node`, or 0 when it cannot tell.
int TasksOnNode(const std::string& spec, int node) {
  size_t pos = 0;
  int index = 0;
  while (pos < spec.size() && index <= node) {
    size_t comma = spec.find(',', pos);
    std::string part = spec.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    pos = comma == std::string::npos ? spec.size() : comma + 1;
    int count = std::atoi(part.c_str()), repeat = 1;
    if (size_t x = part.find("(x"); x != std::string::npos) repeat = std::atoi(part.c_str() + x + 2);
    if (count <= 0 || repeat <= 0) return 0;
    if (node < index + repeat) return count;
    index += repeat;
  }
  return 0;
}

Status CheckWorld(const World& w, const Raw& raw) {
  if (w.rank >= w.size)
    return Status::InvalidArgument(raw.rank_var + "=" + std::to_string(w.rank) + " is not below " + raw.size_var + "=" +
                                   std::to_string(w.size) + " (ranks are 0.." + std::to_string(w.size - 1) + ")");
  if (w.local_size > w.size)
    return Status::InvalidArgument(raw.local_size_var + "=" + std::to_string(w.local_size) + " is more than " +
                                   raw.size_var + "=" + std::to_string(w.size));
  if (w.local_rank >= w.local_size)
    return Status::InvalidArgument(raw.local_rank_var + "=" + std::to_string(w.local_rank) + " is not below " +
                                   raw.local_size_var + "=" + std::to_string(w.local_size));
  return Status::Ok();
}

Status FromRaw(const Raw& raw, World* w) {
  if (!raw.size) return Status::InvalidArgument(raw.rank_var + " is set but " + raw.size_var + " is not");
  if (!raw.rank) return Status::InvalidArgument(raw.size_var + " is set but " + raw.rank_var + " is not");
  TB_ASSIGN_OR_RETURN(w->size, ParseCount(raw.size_var, *raw.size, 1, kMaxWorldSize));
  TB_ASSIGN_OR_RETURN(w->rank, ParseCount(raw.rank_var, *raw.rank, 0, kMaxWorldSize));
  w->local_rank = 0;
  w->local_size = 1;
  if (raw.local_rank) {
    TB_ASSIGN_OR_RETURN(w->local_rank, ParseCount(raw.local_rank_var, *raw.local_rank, 0, kMaxWorldSize));
  }
  if (raw.local_size) {
    TB_ASSIGN_OR_RETURN(w->local_size, ParseCount(raw.local_size_var, *raw.local_size, 1, kMaxWorldSize));
  } else {
    w->local_size = std::max(1, w->local_rank + 1);
  }
  w->launcher = raw.launcher;
  return CheckWorld(*w, raw);
}

Raw MpiRaw(const EnvLookup& env) {
  return {"mpi",
          env("OMPI_COMM_WORLD_RANK"),
          env("OMPI_COMM_WORLD_SIZE"),
          env("OMPI_COMM_WORLD_LOCAL_RANK"),
          env("OMPI_COMM_WORLD_LOCAL_SIZE"),
          "OMPI_COMM_WORLD_RANK",
          "OMPI_COMM_WORLD_SIZE",
          "OMPI_COMM_WORLD_LOCAL_RANK",
          "OMPI_COMM_WORLD_LOCAL_SIZE"};
}

Raw EnvRaw(const EnvLookup& env) {
  return {"env",  env("RANK"),  env("WORLD_SIZE"), env("LOCAL_RANK"), env("LOCAL_WORLD_SIZE"),
          "RANK", "WORLD_SIZE", "LOCAL_RANK",      "LOCAL_WORLD_SIZE"};
}

Raw SlurmRaw(const EnvLookup& env) {
  // srun sets SLURM_STEP_NUM_TASKS (the step's tasks); SLURM_NTASKS may be the allocation's.
  return {"slurm",
          env("SLURM_PROCID"),
          env("SLURM_STEP_NUM_TASKS"),
          env("SLURM_LOCALID"),
          std::nullopt,
          "SLURM_PROCID",
          "SLURM_STEP_NUM_TASKS",
          "SLURM_LOCALID",
          "SLURM_STEP_TASKS_PER_NODE"};
}

Status DetectSlurm(const EnvLookup& env, World* w) {
  Raw raw = SlurmRaw(env);
  TB_RETURN_IF_ERROR(FromRaw(raw, w));
  std::optional<std::string> node_id = env("SLURM_NODEID");
  std::optional<std::string> per_node = env("SLURM_STEP_TASKS_PER_NODE");
  if (!per_node) per_node = env("SLURM_TASKS_PER_NODE");
  if (node_id && per_node) {
    TB_ASSIGN_OR_RETURN(int node, ParseCount("SLURM_NODEID", *node_id, 0, kMaxWorldSize));
    if (int n = TasksOnNode(*per_node, node); n > 0) w->local_size = n;
  }
  TB_RETURN_IF_ERROR(CheckWorld(*w, raw));
  if (auto name = env("SLURMD_NODENAME")) w->host = *name;
  std::optional<std::string> nodes = env("SLURM_STEP_NODELIST");
  if (!nodes) nodes = env("SLURM_JOB_NODELIST");
  if (!nodes) nodes = env("SLURM_NODELIST");
  if (nodes && !nodes->empty()) {
    TB_ASSIGN_OR_RETURN(std::vector<std::string> hosts, ExpandHostList(*nodes));
    if (!hosts.empty()) w->rendezvous_addr = hosts[0];
  }
  // Several jobs may share a node: a port from the job id keeps their stores apart.
  if (auto job = env("SLURM_JOB_ID")) {
    auto id = ParseCount("SLURM_JOB_ID", *job, 0, 2147483647);
    if (id.ok()) w->rendezvous_port = 20000 + *id % 10000;
  }
  return Status::Ok();
}

Result<std::vector<std::string>> JsonHosts(const nlohmann::json& v, const std::string& source) {
  if (!v.is_array() || v.empty()) return Status::InvalidArgument(source + ": expected a non-empty list of host names");
  if (v.size() > static_cast<size_t>(kMaxWorldSize))
    return Status::InvalidArgument(source + ": more than " + std::to_string(kMaxWorldSize) + " hosts");
  std::vector<std::string> hosts;
  for (const auto& h : v) {
    if (!h.is_string() || h.get<std::string>().empty())
      return Status::InvalidArgument(source + ": every host must be a non-empty string");
    hosts.push_back(h.get<std::string>());
  }
  return hosts;
}

// SageMaker: SM_HOSTS / SM_CURRENT_HOST, else resourceconfig.json. `found` is false when
// neither is there.
Status DetectSageMaker(const EnvLookup& env, const std::string& prefix_flag, World* w, bool* found) {
  std::string prefix = prefix_flag;
  if (prefix.empty())
    if (auto p = env("TB_SM_PREFIX"); p && !p->empty()) prefix = *p;
  if (prefix.empty()) prefix = "/opt/ml";
  std::vector<std::string> hosts;
  std::string current, interface, source;
  std::string config_path = prefix + "/input/config/resourceconfig.json";
  Result<std::string> text = ReadFile(config_path);
  if (!text.ok() && !text.status().IsNotFound()) return text.status();
  if (text.ok()) {
    nlohmann::json doc = nlohmann::json::parse(*text, nullptr, false);
    if (doc.is_discarded() || !doc.is_object()) return Status::InvalidArgument(config_path + ": not a JSON object");
    TB_ASSIGN_OR_RETURN(hosts, JsonHosts(doc.value("hosts", nlohmann::json()), config_path + ": \"hosts\""));
    auto c = doc.find("current_host");
    if (c == doc.end() || !c->is_string()) return Status::InvalidArgument(config_path + ": no \"current_host\" string");
    current = c->get<std::string>();
    if (auto i = doc.find("network_interface_name"); i != doc.end() && i->is_string())
      interface = i->get<std::string>();
    source = config_path;
  }
  if (auto sm_hosts = env("SM_HOSTS")) {
    nlohmann::json v = nlohmann::json::parse(*sm_hosts, nullptr, false);
    TB_ASSIGN_OR_RETURN(std::vector<std::string> env_hosts, JsonHosts(v, "SM_HOSTS='" + *sm_hosts + "'"));
    if (!hosts.empty() && env_hosts != hosts)
      return Status::InvalidArgument("SM_HOSTS='" + *sm_hosts + "' and the hosts of " + config_path + " differ");
    hosts = env_hosts;
    source = "SM_HOSTS";
    auto c = env("SM_CURRENT_HOST");
    if (!c) return Status::InvalidArgument("SM_HOSTS is set but SM_CURRENT_HOST is not");
    current = *c;
  }
  if (hosts.empty()) {
    *found = false;
    return Status::Ok();
  }
  *found = true;
  if (auto i = env("SM_NETWORK_INTERFACE_NAME"); i && !i->empty()) interface = *i;
  int rank = -1;
  for (size_t i = 0; i < hosts.size(); ++i) {
    if (hosts[i] != current) continue;
    if (rank >= 0) return Status::InvalidArgument(source + ": host '" + current + "' is listed twice");
    rank = static_cast<int>(i);
  }
  if (rank < 0)
    return Status::InvalidArgument("SageMaker current host '" + current + "' is not among the hosts of " + source);
  w->launcher = "sagemaker";
  w->rank = rank;
  w->size = static_cast<int>(hosts.size());
  w->local_rank = 0;
  w->local_size = 1;
  w->host = current;
  w->rendezvous_addr = hosts[0];
  w->interface = interface;
  return Status::Ok();
}

}  // namespace

Status ParseHostPort(const std::string& text, std::string* host, int* port) {
  std::string h = text, p;
  if (!text.empty() && text[0] == '[') {
    size_t close = text.find(']');
    if (close == std::string::npos) return Status::InvalidArgument("'" + text + "': unterminated [ in the address");
    h = text.substr(1, close - 1);
    if (close + 1 < text.size()) {
      if (text[close + 1] != ':') return Status::InvalidArgument("'" + text + "': expected [address]:port");
      p = text.substr(close + 2);
    }
  } else if (size_t colon = text.rfind(':'); colon != std::string::npos) {
    if (text.find(':') != colon) return Status::InvalidArgument("'" + text + "': write an IPv6 address as [addr]:port");
    h = text.substr(0, colon);
    p = text.substr(colon + 1);
  }
  if (h.empty()) return Status::InvalidArgument("'" + text + "': no host");
  if (h.size() > 255) return Status::InvalidArgument("'" + text.substr(0, 64) + "...': host name too long");
  if (!text.empty() && text.back() == ':') return Status::InvalidArgument("'" + text + "': empty port");
  if (!p.empty()) {
    auto n = ParseCount("port", p, 1, 65535);
    if (!n.ok()) return Status::InvalidArgument("'" + text + "': " + n.status().message());
    *port = *n;
  }
  *host = h;
  return Status::Ok();
}

Result<std::vector<std::string>> ExpandHostList(const std::string& list, size_t max_hosts) {
  std::vector<std::string> out;
  auto bad = [&](const std::string& why) { return Status::InvalidArgument("nodelist '" + list + "': " + why); };
  size_t i = 0;
  while (i < list.size()) {
    // One item: prefix[ranges]suffix... (Slurm allows one bracket group per item here).
    std::string prefix;
    while (i < list.size() && list[i] != ',' && list[i] != '[') prefix += list[i++];
    if (i < list.size() && list[i] == '[') {
      size_t close = list.find(']', i);
      if (close == std::string::npos) return bad("unterminated '['");
      std::string ranges = list.substr(i + 1, close - i - 1);
      i = close + 1;
      std::string suffix;
      while (i < list.size() && list[i] != ',') {
        if (list[i] == '[') return bad("more than one [...] in one host name is not supported");
        suffix += list[i++];
      }
      if (ranges.empty()) return bad("empty []");
      size_t r = 0;
      while (r <= ranges.size()) {
        size_t comma = ranges.find(',', r);
        std::string part = ranges.substr(r, comma == std::string::npos ? std::string::npos : comma - r);
        r = comma == std::string::npos ? ranges.size() + 1 : comma + 1;
        size_t dash = part.find('-');
        std::string lo = part.substr(0, dash), hi = dash == std::string::npos ? lo : part.substr(dash + 1);
        if (lo.empty() || hi.empty() || lo.size() > 9 || hi.size() > 9 ||
            lo.find_first_not_of("0123456789") != std::string::npos ||
            hi.find_first_not_of("0123456789") != std::string::npos)
          return bad("'" + part + "' is not a number or a range a-b");
        long a = std::stol(lo), b = std::stol(hi);
        if (b < a) return bad("range '" + part + "' runs backwards");
        if (static_cast<size_t>(b - a) >= max_hosts || out.size() + (b - a + 1) > max_hosts)
          return bad("more than " + std::to_string(max_hosts) + " hosts");
        for (long n = a; n <= b; ++n) {
          std::string digits = std::to_string(n);
          if (digits.size() < lo.size()) digits.insert(0, lo.size() - digits.size(), '0');  // n[01-10]
          out.push_back(prefix + digits + suffix);
        }
      }
    } else {
      if (prefix.empty()) return bad("empty host name");
      if (out.size() + 1 > max_hosts) return bad("more than " + std::to_string(max_hosts) + " hosts");
      out.push_back(prefix);
    }
    if (i < list.size()) {
      if (list[i] != ',') return bad("unexpected '" + std::string(1, list[i]) + "'");
      ++i;
      if (i == list.size()) return bad("trailing ','");
    }
  }
  return out;
}

Result<World> DetectWorld(const EnvLookup& env, const WorldOverrides& o) {
  const std::string& want = o.launcher.empty() ? "auto" : o.launcher;
  if (want != "auto" && want != "none" && want != "env" && want != "mpi" && want != "slurm" && want != "sagemaker")
    return Status::InvalidArgument("cluster launcher '" + want +
                                   "': expected auto, none, env, mpi, slurm or sagemaker");
  World w;
  w.host = ThisHost();
  w.rendezvous_port = kDefaultPort;
  bool has_mpi = env("OMPI_COMM_WORLD_SIZE") || env("OMPI_COMM_WORLD_RANK");
  bool has_env = env("WORLD_SIZE") || env("RANK");
  // A batch script has SLURM_PROCID=0 and the allocation's SLURM_NTASKS but is one process:
  // only the tasks of an srun step (SLURM_STEP_NUM_TASKS) are ranks.
  bool has_slurm = env("SLURM_PROCID") && env("SLURM_STEP_NUM_TASKS");

  std::string launcher = want;
  if (want == "auto") {
    launcher = has_mpi ? "mpi" : has_env ? "env" : has_slurm ? "slurm" : "sagemaker";
  }
  if (launcher == "mpi") {
    TB_RETURN_IF_ERROR(FromRaw(MpiRaw(env), &w));
    // mpirun -x WORLD_SIZE=... alongside: the two must describe the same world.
    if (auto ws = env("WORLD_SIZE"); ws && *ws != std::to_string(w.size))
      return Status::InvalidArgument("WORLD_SIZE=" + *ws +
                                     " disagrees with OMPI_COMM_WORLD_SIZE=" + std::to_string(w.size));
    if (auto r = env("RANK"); r && *r != std::to_string(w.rank))
      return Status::InvalidArgument("RANK=" + *r + " disagrees with OMPI_COMM_WORLD_RANK=" + std::to_string(w.rank));
    if (w.local_size == w.size) w.rendezvous_addr = "127.0.0.1";  // every rank on this host
  } else if (launcher == "env") {
    TB_RETURN_IF_ERROR(FromRaw(EnvRaw(env), &w));
    // torchrun's agent already serves the store at MASTER_ADDR:MASTER_PORT.
    if (auto agent = env("TORCHELASTIC_USE_AGENT_STORE"))
      w.agent_store = *agent == "True" || *agent == "true" || *agent == "1";
  } else if (launcher == "slurm") {
    if (!has_slurm)
      return Status::InvalidArgument(
          "cluster launcher slurm: SLURM_PROCID or SLURM_STEP_NUM_TASKS is not set "
          "(start the ranks with srun)");
    TB_RETURN_IF_ERROR(DetectSlurm(env, &w));
  } else if (launcher == "sagemaker") {
    bool found = false;
    TB_RETURN_IF_ERROR(DetectSageMaker(env, o.sm_prefix, &w, &found));
    if (!found) {
      if (want == "sagemaker")
        return Status::InvalidArgument("cluster launcher sagemaker: neither SM_HOSTS nor " +
                                       (o.sm_prefix.empty() ? std::string("/opt/ml") : o.sm_prefix) +
                                       "/input/config/resourceconfig.json is there");
      w = World{};  // no launcher at all: one rank
      w.host = ThisHost();
    }
  } else {  // none
    w = World{};
    w.host = ThisHost();
  }

  // The launcher-independent variables and the overrides, strongest last.
  if (w.size > 1) {
    if (auto addr = env("MASTER_ADDR"); addr && !addr->empty()) w.rendezvous_addr = *addr;
    if (auto port = env("MASTER_PORT"); port && !port->empty()) {
      TB_ASSIGN_OR_RETURN(w.rendezvous_port, ParseCount("MASTER_PORT", *port, 1, 65535));
    }
    if (auto ifname = env("GLOO_SOCKET_IFNAME"); ifname && !ifname->empty() && w.interface.empty())
      w.interface = *ifname;
  }
  if (!o.rendezvous.empty()) {
    Status s = ParseHostPort(o.rendezvous, &w.rendezvous_addr, &w.rendezvous_port);
    if (!s.ok()) return Status::InvalidArgument("cluster rendezvous " + s.message());
  }
  if (!o.interface.empty()) w.interface = o.interface;
  if (o.timeout_s > 0) w.timeout_s = o.timeout_s;
  if (o.heartbeat_timeout_s > 0) w.heartbeat_timeout_s = o.heartbeat_timeout_s;
  if (w.size == 1) {
    w.rendezvous_addr.clear();
    return w;
  }
  if (w.rendezvous_addr.empty()) {
    std::string how = w.launcher == "mpi" ? "mpirun sets no rendezvous address and the ranks span several hosts: "
                                            "pass -x MASTER_ADDR=<rank 0's host> (and -x MASTER_PORT), or "
                                          : "no rendezvous address: set MASTER_ADDR, or ";
    return Status::InvalidArgument("world of " + std::to_string(w.size) + " ranks (launcher " + w.launcher +
                                   "): " + how + "--rendezvous host:port / [cluster] rendezvous");
  }
  return w;
}

std::string DescribeWorld(const World& w) {
  std::string s = "rank " + std::to_string(w.rank) + "/" + std::to_string(w.size) + " (local " +
                  std::to_string(w.local_rank) + "/" + std::to_string(w.local_size) + ") host " + w.host +
                  ", launcher " + w.launcher;
  if (!w.single()) {
    s += ", rendezvous " + w.rendezvous_addr + ":" + std::to_string(w.rendezvous_port);
    if (!w.interface.empty()) s += ", interface " + w.interface;
  }
  return s;
}

}  // namespace tb::launch
