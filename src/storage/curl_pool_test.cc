// SetCommonOptions against a real loopback listener written here: what every tier's request
// carries on the wire, and the stall timeout failing a request whose server never answers.
#include "storage/curl_pool.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <thread>

namespace tb::storage {
namespace {

// One connection on 127.0.0.1: reads the request head, then answers `reply` (nothing when
// empty: it waits until the client hangs up).
class OneShotServer {
 public:
  explicit OneShotServer(std::string reply) : reply_(std::move(reply)) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), len) != 0 || ::listen(listen_fd_, 1) != 0 ||
        ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      ADD_FAILURE() << "loopback listener";
    }
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }
  ~OneShotServer() {
    if (thread_.joinable()) thread_.join();
    ::close(listen_fd_);
  }
  int port() const { return port_; }
  // Valid once the client's request is over (the server thread is joined by then).
  std::string request() {
    if (thread_.joinable()) thread_.join();
    return request_;
  }

 private:
  void Serve() {
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) return;
    char buf[4096];
    while (request_.find("\r\n\r\n") == std::string::npos) {
      ssize_t n = ::read(fd, buf, sizeof buf);
      if (n <= 0) break;
      request_.append(buf, static_cast<size_t>(n));
    }
    if (!reply_.empty()) {
      (void)!::write(fd, reply_.data(), reply_.size());
    } else {
      while (::read(fd, buf, sizeof buf) > 0) {}
    }
    ::close(fd);
  }

  std::string reply_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::string request_;
  std::thread thread_;
};

TEST(CurlPool, CommonOptionsReachTheWire) {
  OneShotServer server("HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
  Options o;
  o.max_retries = 0;
  char errbuf[256] = "stale";
  {
    CurlLease lease;
    SetCommonOptions(lease, "http://127.0.0.1:" + std::to_string(server.port()) + "/a%20b/c", o, errbuf);
    EXPECT_STREQ(errbuf, "");  // cleared for this request
    EXPECT_EQ(PerformOnMulti(lease, o), 0) << errbuf;
  }
  std::string req = server.request();
  EXPECT_EQ(req.rfind("GET /a%20b/c HTTP/1.1\r\n", 0), 0u) << req;
  EXPECT_NE(req.find("\r\nUser-Agent: tierbench/0.1\r\n"), std::string::npos) << req;
}

TEST(CurlPool, StallTimeoutFailsASilentServer) {
  OneShotServer server("");  // reads the request, never answers
  Options o;
  o.low_speed_timeout_s = 1;
  char errbuf[256];
  int rc = 0;
  {
    CurlLease lease;
    SetCommonOptions(lease, "http://127.0.0.1:" + std::to_string(server.port()) + "/x", o, errbuf);
    rc = PerformOnMulti(lease, o);
  }
  EXPECT_NE(rc, 0);
  EXPECT_NE(std::string(errbuf), "") << "curl names the cause";
}

}  // namespace
}  // namespace tb::storage
