// Runs the real `normbase` CLI binary for the CLI tests: in the foreground
// with captured stdout/stderr and exit code, or in the background (watch)
// with its output in files that the test polls. Each runner has its own HOME
// (a temporary folder), so the config file the CLI writes is the test's own.
//
// The binary is $NORMBASE_CLI_BIN when set, else the NORMBASE_CLI_BIN path
// compiled into the test executable.
#pragma once

#include <sys/types.h>

#include <unistd.h>

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace normbase::testing {

struct CliResult {
  int code = -1;  // exit code; -1 when it had to be killed (timeout)
  std::string out, err;
};

class CliRunner {
 public:
  CliRunner();   // makes the temporary HOME
  ~CliRunner();  // removes it
  CliRunner(const CliRunner&) = delete;
  CliRunner& operator=(const CliRunner&) = delete;

  const std::string& home() const { return home_; }
  std::string config_path() const { return home_ + "/.config/normbase/config.json"; }
  // Environment variables for every run (e.g. NORMBASE_SERVER); "" unsets.
  void SetEnv(const std::string& name, const std::string& value) { env_[name] = value; }

  // Runs `normbase args...` to completion (killed after `timeout`).
  CliResult Run(const std::vector<std::string>& args, const std::string& stdin_text = "",
                std::chrono::milliseconds timeout = std::chrono::seconds(60)) const;

  // A background run whose stdout and stderr go to files.
  class Background {
   public:
    ~Background();  // kills it if it still runs
    std::string out() const;
    std::string err() const;
    // Polls until out() satisfies `pred` or `timeout` passes; true if it did.
    template <typename Pred>
    bool WaitForOutput(Pred pred, std::chrono::milliseconds timeout) const;
    void Signal(int sig) const;
    // Waits for the exit; the exit code, or -1 on timeout (then it is killed).
    int Wait(std::chrono::milliseconds timeout);

   private:
    friend class CliRunner;
    pid_t pid_ = -1;
    std::string out_path_, err_path_;
  };
  std::unique_ptr<Background> Start(const std::vector<std::string>& args) const;

  static std::string BinaryPath();

 private:
  std::vector<std::string> Environment() const;
  std::string home_;
  std::map<std::string, std::string> env_;
};

template <typename Pred>
bool CliRunner::Background::WaitForOutput(Pred pred, std::chrono::milliseconds timeout) const {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred(out())) return true;
    ::usleep(20000);
  }
  return pred(out());
}

}  // namespace normbase::testing
