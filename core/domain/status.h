// Status and Result<T>: how every layer of Normbase reports an expected failure.
//
// A Status is a value: OK, or a code plus a message a person can act on. Layers
// return Status/Result instead of throwing; library exceptions are converted at
// the edge of the component that uses the library. The api layer maps codes to
// HTTP in exactly one place (api/problem.cc).
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace normbase {

class [[nodiscard]] Status {
 public:
  enum class Code {
    kOk,
    kInvalidArgument,   // the request is malformed or breaks a rule of the data
    kNotFound,          // an id that does not exist
    kAlreadyExists,     // create of something that exists
    kConflict,          // stale revision, lost race, state does not allow it
    kUnauthenticated,   // no or bad token
    kPermissionDenied,  // authenticated, but the role does not allow it
    kPreconditionFailed,// the review policy does not allow it yet
    kTooLarge,          // a configured limit was exceeded
    kUnsupportedMedia,  // a body in a format the endpoint does not take
    kUnavailable,       // shutting down, overloaded
    kInternal,          // a bug or an I/O failure; the message says which
  };

  Status() = default;
  static Status Ok() { return Status(); }
  static Status InvalidArgument(std::string m) { return {Code::kInvalidArgument, std::move(m)}; }
  static Status NotFound(std::string m) { return {Code::kNotFound, std::move(m)}; }
  static Status AlreadyExists(std::string m) { return {Code::kAlreadyExists, std::move(m)}; }
  static Status Conflict(std::string m) { return {Code::kConflict, std::move(m)}; }
  static Status Unauthenticated(std::string m) { return {Code::kUnauthenticated, std::move(m)}; }
  static Status PermissionDenied(std::string m) { return {Code::kPermissionDenied, std::move(m)}; }
  static Status PreconditionFailed(std::string m) {
    return {Code::kPreconditionFailed, std::move(m)};
  }
  static Status TooLarge(std::string m) { return {Code::kTooLarge, std::move(m)}; }
  static Status UnsupportedMedia(std::string m) { return {Code::kUnsupportedMedia, std::move(m)}; }
  static Status Unavailable(std::string m) { return {Code::kUnavailable, std::move(m)}; }
  static Status Internal(std::string m) { return {Code::kInternal, std::move(m)}; }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  bool IsNotFound() const { return code_ == Code::kNotFound; }
  bool IsConflict() const { return code_ == Code::kConflict; }
  bool IsInvalidArgument() const { return code_ == Code::kInvalidArgument; }

  // "NotFound: agreement 'x' does not exist" — for logs and tests.
  std::string ToString() const;
  static const char* CodeName(Code c);

 private:
  Status(Code c, std::string m) : code_(c), message_(std::move(m)) {}
  Code code_ = Code::kOk;
  std::string message_;
};

// A value or the Status that explains why there is none.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status s) : v_(std::move(s)) {}     // NOLINT: must not be OK

  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(v_);
  }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace normbase

// Early return on failure, LevelDB/Abseil style, to keep call sites flat.
#define NB_RETURN_IF_ERROR(expr)          \
  do {                                    \
    ::normbase::Status _nb_s = (expr);    \
    if (!_nb_s.ok()) return _nb_s;        \
  } while (0)

#define NB_CONCAT_INNER(a, b) a##b
#define NB_CONCAT(a, b) NB_CONCAT_INNER(a, b)
#define NB_ASSIGN_OR_RETURN(lhs, expr) NB_ASSIGN_OR_RETURN_IMPL(NB_CONCAT(_nb_r, __LINE__), lhs, expr)
#define NB_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                             \
  if (!tmp.ok()) return tmp.status();            \
  lhs = std::move(tmp).value()
