#include "util/signals.h"

#include <signal.h>
#include <unistd.h>

namespace tb {
namespace {

std::atomic<bool> g_cancel{false};
std::atomic<int> g_signal{0};

void OnSignal(int sig) {
  int none = 0;
  g_signal.compare_exchange_strong(none, sig);  // the first signal decides the exit status,
  if (g_cancel.exchange(true)) _exit(128 + sig);  // set before the flag is seen; second: leave now
}

}  // namespace

const std::atomic<bool>* InstallCancelHandlers() {
  struct sigaction sa {};
  sa.sa_handler = OnSignal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  signal(SIGPIPE, SIG_IGN);
  return &g_cancel;
}

void CancelFromWithin() { g_cancel.store(true); }

int CancelSignal() { return g_signal.load(); }

int InterruptedExitCode() { return 128 + (g_signal.load() ? g_signal.load() : SIGINT); }

}  // namespace tb
