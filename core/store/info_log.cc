#include "store/info_log.h"

#include <sys/time.h>

#include <cstdarg>
#include <cstdio>
#include <ctime>
#include <mutex>

namespace normbase::store {
namespace {

class TolerantInfoLog final : public rocksdb::Logger {
 public:
  explicit TolerantInfoLog(FILE* f) : rocksdb::Logger(rocksdb::InfoLogLevel::INFO_LEVEL), f_(f) {}
  ~TolerantInfoLog() override { std::fclose(f_); }

  using rocksdb::Logger::Logv;
  void Logv(const char* format, va_list ap) override {
    timeval now;
    ::gettimeofday(&now, nullptr);
    tm t;
    ::localtime_r(&now.tv_sec, &t);
    std::lock_guard lk(mu_);
    // Every result is ignored on purpose: see the header.
    (void)std::fprintf(f_, "%04d/%02d/%02d-%02d:%02d:%02d.%06ld ", t.tm_year + 1900, t.tm_mon + 1,
                       t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec, static_cast<long>(now.tv_usec));
    (void)std::vfprintf(f_, format, ap);
    (void)std::fputc('\n', f_);
    (void)std::fflush(f_);
    std::clearerr(f_);
  }

 private:
  std::mutex mu_;
  FILE* f_;  // GUARDED_BY(mu_)
};

}  // namespace

std::shared_ptr<rocksdb::Logger> OpenTolerantInfoLog(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "ae");
  if (f == nullptr) return nullptr;
  return std::make_shared<TolerantInfoLog>(f);
}

}  // namespace normbase::store
