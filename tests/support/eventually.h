// Eventually: polls a condition until it holds or a deadline passes, for tests
// that wait on another thread or process. Header-only, like temp_dir.h, so the
// core unit tests use it without the integration tests' support library.
#pragma once

#include <chrono>
#include <functional>
#include <thread>

namespace normbase::testing {

// True as soon as `probe` returns true; false if it still does not after `ms`
// (it is asked once more at the deadline).
inline bool Eventually(const std::function<bool()>& probe, int ms = 20000, int poll_ms = 50) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
  while (std::chrono::steady_clock::now() < deadline) {
    if (probe()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(poll_ms));
  }
  return probe();
}

}  // namespace normbase::testing
