// `normbase watch`: prints live-stream events as they come, and survives
// network losses and server restarts without missing or repeating any: it
// keeps the last sequence number it handled and reconnects (with back-off)
// with since=<that number>, which the server answers with exactly the events
// after it. Ctrl-C ends it with exit code 0.
#include <signal.h>

#include <chrono>
#include <csignal>
#include <ctime>
#include <iostream>
#include <thread>

#include "commands.h"

namespace normbase::cli {

namespace {

constexpr auto kFirstBackoff = std::chrono::milliseconds(250);
constexpr auto kMaxBackoff = std::chrono::seconds(3);
// How often a blocked read wakes up to notice Ctrl-C.
constexpr int kPollMs = 200;

volatile std::sig_atomic_t g_stop = 0;
void OnSignal(int) { g_stop = 1; }

void InstallSignalHandlers() {
  struct sigaction sa {};
  sa.sa_handler = OnSignal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: a blocking wait returns at once
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

// Sleeps up to `d`, returning early on Ctrl-C.
void SleepUnlessStopped(std::chrono::milliseconds d) {
  const auto until = std::chrono::steady_clock::now() + d;
  while (!g_stop && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
}

std::string Str(const Json& j, const char* key) {
  if (!j.is_object() || !j.contains(key)) return "";
  const Json& v = j[key];
  return v.is_string() ? v.get<std::string>() : v.is_number() ? v.dump() : "";
}

std::string Clock(int64_t ms) {
  const std::time_t t = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[16];
  std::strftime(buf, sizeof buf, "%H:%M:%S", &tm);
  return buf;
}

// One line a person can read for an event.
std::string EventLine(const Json& e, const Style& st) {
  const Json subjects = e.value("subjects", Json::object()),
             payload = e.value("payload", Json::object());
  std::string line = st.Dim("#" + std::to_string(e.value("seq", uint64_t{0}))) + " " +
                     Clock(e.value("time", int64_t{0})) + " " + st.Cyan(e.value("type", "?"));
  if (!Str(subjects, "proposal").empty()) line += " proposal #" + Str(subjects, "proposal");
  if (!Str(subjects, "agreement").empty()) line += " " + Str(subjects, "agreement");
  if (!Str(subjects, "user").empty()) line += " user #" + Str(subjects, "user");
  std::vector<std::string> bits;
  if (payload.contains("review")) {
    const Json& r = payload["review"];
    bits.push_back(st.State(Str(r, "verdict")) + " by " + Str(r, "reviewer_name") +
                   (Str(r, "group").empty() ? "" : " (" + Str(r, "group") + ")"));
  }
  if (payload.contains("comment"))
    bits.push_back("\"" + Truncate(Str(payload["comment"], "text"), 60) + "\"");
  if (payload.contains("proposal") && payload["proposal"].is_object()) {
    const Json& p = payload["proposal"];
    const Json review = p.value("review", Json::object());
    std::string s = st.State(Str(p, "state"));
    if (review.contains("approvals")) s += ", " + Str(review, "approvals") + " approval(s)";
    if (review.value("can_merge", false)) s += ", can merge";
    bits.push_back(s);
  }
  if (payload.contains("change") && payload.contains("agreement") &&
      payload["agreement"].is_object())
    bits.push_back(Str(payload, "change") + " to revision " +
                   Str(payload["agreement"], "revision"));
  for (const char* key : {"check", "job"}) {
    if (!payload.contains(key) || !payload[key].is_object()) continue;
    const Json& c = payload[key];
    std::string s = Str(c, "plugin");
    const std::string state = Str(c, "status").empty() ? Str(c, "state") : Str(c, "status");
    if (!state.empty()) s += (s.empty() ? "" : " ") + st.State(state);
    if (!s.empty()) bits.push_back(s);
  }
  if (!Str(payload, "dataset_revision").empty())
    bits.push_back("dataset revision " + Str(payload, "dataset_revision"));
  if (payload.contains("user") && payload["user"].is_object())
    bits.push_back(Str(payload["user"], "name"));
  if (!Str(payload, "reason").empty())
    bits.push_back("reason: " + Truncate(Str(payload, "reason"), 60));
  if (!bits.empty()) {
    line += " —";
    for (size_t i = 0; i < bits.size(); ++i) line += (i ? "; " : " ") + bits[i];
  }
  return line;
}

struct WatchArgs {
  std::vector<std::string> topics;
  int64_t since = -1;
  size_t limit = 0;
};

int Watch(Context& ctx, const WatchArgs& a) {
  auto endpoint = ctx.endpoint();
  if (!endpoint) return kExitUsage;
  InstallSignalHandlers();
  std::string topics;
  for (const auto& t : a.topics) topics += (topics.empty() ? "" : ",") + t;
  // The last sequence handled: the resume point. Unset until the first hello
  // when watching "from now".
  std::optional<uint64_t> last;
  if (a.since >= 0) last = static_cast<uint64_t>(a.since);
  auto backoff = std::chrono::milliseconds(kFirstBackoff);
  bool lost = false;
  size_t printed = 0;
  while (!g_stop) {
    const std::string target =
        "/api/v1/stream" +
        Query({{"since", last ? std::to_string(*last) : ""}, {"topics", topics}});
    net::StreamClient stream;
    if (!stream.Connect(*endpoint, target, ctx.settings().token, ctx.global.timeout_s * 1000)) {
      const int status = stream.refused_status();
      if (status == 400 || status == 401 || status == 403 || status == 404) {
        // The server said no: retrying will not change its mind.
        Reply r;
        r.status = status;
        r.body = Json::parse(stream.refused_body(), nullptr, false);
        if (r.body.is_discarded()) r.body = nullptr;
        r.exit_code = ExitCodeForStatus(status);
        r.error = (r.body.is_object() ? r.body.value("detail", stream.error()) : stream.error()) +
                  " (" + std::to_string(status) + ")";
        return ctx.Fail(r);
      }
      if (!lost) ctx.Notice(ctx.err().Yellow("watch: ") + stream.error() + "; retrying");
      lost = true;
      SleepUnlessStopped(backoff);
      backoff = std::min<std::chrono::milliseconds>(backoff * 2, kMaxBackoff);
      continue;
    }
    if (lost)
      ctx.Notice(ctx.err().Yellow("watch: ") + "reconnected" +
                 (last ? "; resuming after #" + std::to_string(*last) : std::string()));
    lost = false;
    backoff = kFirstBackoff;
    while (!g_stop) {
      std::string text;
      const auto res = stream.Next(kPollMs, &text);
      if (res == net::StreamClient::ReadResult::kTimeout) continue;
      if (res == net::StreamClient::ReadResult::kClosed) {
        if (!g_stop) ctx.Notice(ctx.err().Yellow("watch: ") + stream.error() + "; reconnecting");
        lost = true;
        break;
      }
      const Json m = Json::parse(text, nullptr, false);
      if (!m.is_object()) continue;
      const std::string kind = m.value("kind", "");
      if (kind == "hello") {
        if (!last) last = m.value("seq", uint64_t{0});
      } else if (kind == "event") {
        const uint64_t seq = m.value("seq", uint64_t{0});
        if (last && seq <= *last) continue;  // never print one twice
        if (ctx.json())
          std::cout << m.dump() << std::endl;
        else
          std::cout << EventLine(m, ctx.out()) << std::endl;
        last = seq;
        if (a.limit && ++printed >= a.limit) return kExitOk;
      } else if (kind == "reset") {
        const uint64_t from = m.value("continue_from", m.value("seq", uint64_t{0}));
        ctx.Notice(ctx.err().Yellow("watch: ") + "the server reset the stream (" +
                   m.value("reason", "") + "): events between #" +
                   (last ? std::to_string(*last) : std::string("?")) + " and #" +
                   std::to_string(from) +
                   " cannot be replayed; reload state with the other commands. Continuing after #" +
                   std::to_string(from));
        if (ctx.json()) std::cout << m.dump() << std::endl;
        last = from;
      } else if (kind == "error") {
        ctx.Notice(ctx.err().Yellow("watch: ") + "the server said: " + m.value("detail", ""));
      }
    }
    if (lost && !g_stop) SleepUnlessStopped(backoff);
  }
  return kExitOk;  // Ctrl-C is how watch ends
}

}  // namespace

void AddWatchCommand(CLI::App& app, Context& ctx) {
  auto wa = std::make_shared<WatchArgs>();
  auto* watch = app.add_subcommand("watch",
                                   "Print events as they happen; resumes after a network loss "
                                   "without missing or repeating any; Ctrl-C stops");
  watch->add_option(
      "TOPIC", wa->topics,
      "all (default), proposals, proposal:<id>, agreement:<id>, dataset, checks, workers, users");
  watch
      ->add_option("--since", wa->since,
                   "Start with the events after this sequence number (default: from now)")
      ->check(CLI::NonNegativeNumber);
  watch->add_option("--limit", wa->limit, "Exit after printing this many events");
  OnRun(watch, ctx, [&ctx, wa] { return Watch(ctx, *wa); });
}

}  // namespace normbase::cli
