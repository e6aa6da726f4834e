#include "faults/fault_support.h"

#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <functional>
#include <random>
#include <sstream>

namespace normbase::faults {

namespace {

using nlohmann::json;
using testing::HttpClient;
using testing::HttpResult;
using Clock = std::chrono::steady_clock;

// Requests of the load and of the checker; a dead server answers at once
// (connection refused), a live one well within this.
constexpr int kRequestTimeoutMs = 15000;
// Comments per proposal before a thread moves to its next proposal: the
// proposal record (and each answer) grows with every comment.
constexpr int kCommentsPerProposal = 20;
constexpr size_t kMaxDetails = 5;
// Pages of the list endpoints and of the event log.
constexpr int kListPage = 100;
constexpr int kEventPage = 1000;

json NewAgreement(const std::string& id) {
  return json{{"id", id},
              {"title", "Crash test agreement " + id},
              {"year", 2024},
              {"kind", "bilateral"},
              {"leading_stakeholders", {"government"}},
              {"parties", "Two states"},
              {"source_url", "https://example.org/" + id}};
}

bool IsTerminalJobEvent(const std::string& type) {
  auto ends = [&](const std::string& s) {
    return type.size() > s.size() && type.compare(type.size() - s.size(), s.size(), s) == 0;
  };
  return ends(".done") || ends(".failed");
}

// "x" -> x as an integer; 0 when absent or not a number.
int64_t SubjectId(const json& event, const char* name) {
  const auto& s = event["subjects"];
  if (!s.is_object() || !s.contains(name) || !s[name].is_string()) return 0;
  try {
    return std::stoll(s[name].get<std::string>());
  } catch (...) {
    return 0;
  }
}

void Add(std::vector<std::string>& into, std::string what) { into.push_back(std::move(what)); }

}  // namespace

// ---- Ledger ----

size_t Ledger::acknowledged() const {
  size_t n = proposals.size();
  for (const auto& [p, cs] : comments) n += cs.size();
  return n;
}

void Ledger::Merge(const Ledger& o) {
  for (const auto& [id, a] : o.proposals) proposals[id] = a;
  for (const auto& [p, cs] : o.comments)
    for (const auto& [id, text] : cs) comments[p][id] = text;
  unanswered += o.unanswered;
  for (const auto& [s, n] : o.statuses) statuses[s] += n;
  for (const auto& d : o.error_details)
    if (error_details.size() < kMaxDetails) error_details.push_back(d);
}

// ---- WriteLoad ----

WriteLoad::WriteLoad(std::string base_url, std::string token, int threads, std::string tag)
    : base_url_(std::move(base_url)),
      token_(std::move(token)),
      tag_(std::move(tag)),
      threads_(threads) {}

WriteLoad::~WriteLoad() { (void)Stop(); }

void WriteLoad::Start() {
  for (int i = 0; i < threads_; ++i) workers_.emplace_back([this, i] { Run(i); });
}

Ledger WriteLoad::Stop() {
  stop_ = true;
  for (auto& t : workers_) t.join();
  workers_.clear();
  std::lock_guard lk(mu_);
  return ledger_;
}

void WriteLoad::Run(int index) {
  HttpClient c(base_url_);
  c.set_token(token_);
  c.set_timeout_ms(kRequestTimeoutMs);
  Ledger mine;
  std::mt19937 rng(static_cast<unsigned>(std::hash<std::string>()(tag_) + 7919u * index));
  int64_t target = 0;
  int on_target = 0;
  for (uint64_t n = 0; !stop_; ++n) {
    const std::string name = tag_ + "-" + std::to_string(index) + "-" + std::to_string(n);
    const bool comment = target > 0 && on_target < kCommentsPerProposal && rng() % 10 < 3;
    HttpResult r;
    if (comment)
      r = c.Post("/api/v1/proposals/" + std::to_string(target) + "/comments",
                 json{{"text", "comment " + name}});
    else
      r = c.Post("/api/v1/proposals", json{{"kind", "add"},
                                           {"agreement", NewAgreement("cr-" + name)},
                                           {"rationale", "ok " + name}});
    ++mine.statuses[r.status];
    if (r.status == 0) {
      ++mine.unanswered;
      if (!keep_going_) break;  // the server is gone
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      continue;
    }
    ++answered_;
    if (r.status != 201) {
      if (mine.error_details.size() < kMaxDetails)
        mine.error_details.push_back(std::to_string(r.status) + " " + r.header("content-type") +
                                     " " + r.body.substr(0, 300));
      continue;
    }
    json j = r.json();
    if (comment) {
      const json& cm = j["comment"];
      if (cm.is_object() && cm.value("text", "") == "comment " + name)
        mine.comments[target][cm["id"].get<int64_t>()] = "comment " + name;
      ++on_target;
    } else if (j.contains("id")) {
      target = j["id"].get<int64_t>();
      mine.proposals[target] = "cr-" + name;
      on_target = 0;
    }
    ++acked_;
  }
  std::lock_guard lk(mu_);
  ledger_.Merge(mine);
}

// ---- Report ----

std::string Report::Summary(size_t per_kind) const {
  std::ostringstream o;
  auto list = [&](const char* name, const std::vector<std::string>& v) {
    if (v.empty()) return;
    o << "  " << name << ": " << v.size() << "\n";
    for (size_t i = 0; i < v.size() && i < per_kind; ++i) o << "    " << v[i] << "\n";
  };
  list("lost (acknowledged, missing)", lost);
  list("half-present", partial);
  list("event log gaps", gaps);
  list("jobs", jobs);
  list("unreadable", other);
  if (ok())
    o << "  ok: " << proposals_seen << " proposals, " << jobs_seen << " jobs, events 1.."
      << last_seq << "\n";
  return o.str();
}

// ---- Verify ----

bool ReadList(HttpClient& c, const std::string& path, std::vector<json>& out, std::string* error) {
  std::string cursor;
  for (;;) {
    std::string target = path + (path.find('?') == std::string::npos ? "?" : "&") +
                         "limit=" + std::to_string(kListPage);
    if (!cursor.empty()) target += "&cursor=" + cursor;
    HttpResult r = c.Get(target);
    if (r.status != 200) {
      *error =
          "GET " + target + ": " + std::to_string(r.status) + " " + r.body.substr(0, 200) + r.error;
      return false;
    }
    json j = r.json();
    for (auto& item : j["items"]) out.push_back(std::move(item));
    if (!j.contains("next_cursor") || j["next_cursor"].is_null()) return true;
    cursor = j["next_cursor"].is_string() ? j["next_cursor"].get<std::string>()
                                          : j["next_cursor"].dump();
  }
}

std::vector<json> ReadAllEvents(HttpClient& admin, std::string* error) {
  std::vector<json> all;
  uint64_t since = 0;
  for (;;) {
    HttpResult r = admin.Get("/api/v1/events?since=" + std::to_string(since) +
                             "&limit=" + std::to_string(kEventPage));
    if (r.status != 200) {
      *error =
          "GET /api/v1/events: " + std::to_string(r.status) + " " + r.body.substr(0, 200) + r.error;
      return all;
    }
    json j = r.json();
    if (j["items"].empty()) return all;
    for (auto& e : j["items"]) all.push_back(std::move(e));
    since = j["next_since"].get<uint64_t>();
  }
}

bool WaitUntil(const std::function<bool()>& probe, int timeout_ms) {
  const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  while (Clock::now() < deadline) {
    if (probe()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return probe();
}

Report Verify(HttpClient& admin, const Ledger& acked, const CheckOptions& options) {
  Report rep;
  std::string error;

  // Jobs first: wait until none is queued or running, so that the event log
  // read below is complete for them.
  if (options.jobs_timeout_ms > 0) {
    const bool settled = WaitUntil(
        [&] {
          for (const char* s : {"queued", "running"}) {
            HttpResult r = admin.Get(std::string("/api/v1/jobs?limit=1&state=") + s);
            if (r.status != 200 || !r.json()["items"].empty()) return false;
          }
          return true;
        },
        options.jobs_timeout_ms);
    if (!settled) {
      std::vector<json> open;
      std::string e;
      (void)ReadList(admin, "/api/v1/jobs?state=queued", open, &e);
      (void)ReadList(admin, "/api/v1/jobs?state=running", open, &e);
      Add(rep.jobs, std::to_string(open.size()) + " jobs still queued or running after " +
                        std::to_string(options.jobs_timeout_ms) + " ms" +
                        (open.empty() ? ""
                                      : " (first: " + open[0]["id"].get<std::string>() + " " +
                                            open[0].value("state", "") + ")"));
    }
  }

  // The event log: 1..N with no gap, reaching at least where the server said
  // it ended just before (workers connecting may append events meanwhile).
  HttpResult health = admin.Get("/healthz");
  const uint64_t said_last =
      health.status == 200 ? health.json().value("last_event_seq", uint64_t{0}) : 0;
  std::vector<json> events = ReadAllEvents(admin, &error);
  if (!error.empty()) {
    Add(rep.other, error);
    return rep;
  }
  uint64_t expect = 1;
  for (const auto& e : events) {
    const uint64_t seq = e["seq"].get<uint64_t>();
    if (seq != expect)
      Add(rep.gaps, "event " + std::to_string(expect) + " is followed by " + std::to_string(seq));
    expect = seq + 1;
  }
  rep.last_seq = expect - 1;
  if (health.status != 200)
    Add(rep.other, "/healthz: " + std::to_string(health.status));
  else if (rep.last_seq < said_last)
    Add(rep.gaps, "/healthz said the log ends at " + std::to_string(said_last) + ", it ends at " +
                      std::to_string(rep.last_seq));

  std::set<int64_t> created;                            // proposal.created
  std::map<int64_t, std::set<int64_t>> comment_events;  // comment.added
  std::set<std::string> queued_jobs;                    // *.queued (the first one makes the job)
  std::map<std::string, int> terminal;                  // *.done / *.failed per job
  for (const auto& e : events) {
    const std::string type = e["type"].get<std::string>();
    if (type == "proposal.created") created.insert(SubjectId(e, "proposal"));
    if (type == "comment.added" && e["payload"].contains("comment"))
      comment_events[SubjectId(e, "proposal")].insert(e["payload"]["comment"]["id"].get<int64_t>());
    if (e["subjects"].contains("job")) {
      const std::string job = e["subjects"]["job"].get<std::string>();
      if (type.size() > 7 && type.compare(type.size() - 7, 7, ".queued") == 0)
        queued_jobs.insert(job);
      if (IsTerminalJobEvent(type)) ++terminal[job];
    }
  }

  // Proposals: the list against the events, both ways, and every
  // acknowledged one with the agreement it was acknowledged with.
  std::vector<json> proposals;
  if (!ReadList(admin, "/api/v1/proposals", proposals, &error)) {
    Add(rep.other, error);
    return rep;
  }
  rep.proposals_seen = proposals.size();
  std::map<int64_t, std::string> present;
  for (const auto& p : proposals) present[p["id"].get<int64_t>()] = p.value("agreement_id", "");
  for (const auto& [id, agreement] : present)
    if (!created.count(id))
      Add(rep.partial,
          "proposal " + std::to_string(id) + " exists without its proposal.created event");
  for (int64_t id : created)
    if (!present.count(id))
      Add(rep.partial,
          "proposal.created for proposal " + std::to_string(id) + ", which does not exist");
  for (const auto& [id, agreement] : acked.proposals) {
    auto it = present.find(id);
    if (it == present.end())
      Add(rep.lost,
          "proposal " + std::to_string(id) + " (" + agreement + ") was acknowledged and is gone");
    else if (it->second != agreement)
      Add(rep.lost, "proposal " + std::to_string(id) + " was acknowledged for " + agreement +
                        " and now holds " + it->second);
  }

  // Comments: every acknowledged one has its event; the deep proposals are
  // read whole and compared comment by comment, both ways.
  for (const auto& [p, cs] : acked.comments)
    for (const auto& [id, text] : cs)
      if (!comment_events[p].count(id))
        Add(rep.lost, "comment " + std::to_string(id) + " on proposal " + std::to_string(p) +
                          " was acknowledged and has no comment.added event");
  for (int64_t p : options.deep) {
    if (!present.count(p)) continue;  // reported above if it was acknowledged
    HttpResult r = admin.Get("/api/v1/proposals/" + std::to_string(p));
    if (r.status != 200) {
      Add(rep.other, "GET proposal " + std::to_string(p) + ": " + std::to_string(r.status));
      continue;
    }
    std::map<int64_t, std::string> have;
    const json doc = r.json();  // kept: a range-for over a temporary's member would dangle
    for (const auto& c : doc["comments"]) have[c["id"].get<int64_t>()] = c.value("text", "");
    auto ack = acked.comments.find(p);
    if (ack != acked.comments.end())
      for (const auto& [id, text] : ack->second) {
        auto it = have.find(id);
        if (it == have.end())
          Add(rep.lost, "comment " + std::to_string(id) + " on proposal " + std::to_string(p) +
                            " was acknowledged and is gone");
        else if (it->second != text)
          Add(rep.lost, "comment " + std::to_string(id) + " on proposal " + std::to_string(p) +
                            " changed text");
      }
    for (const auto& [id, text] : have)
      if (!comment_events[p].count(id))
        Add(rep.partial, "comment " + std::to_string(id) + " on proposal " + std::to_string(p) +
                             " has no comment.added event");
    for (int64_t id : comment_events[p])
      if (!have.count(id))
        Add(rep.partial, "comment.added for comment " + std::to_string(id) + " on proposal " +
                             std::to_string(p) + ", which the proposal does not hold");
  }

  // Jobs: queued with their proposal, each with its queued event, each ended
  // exactly once.
  std::vector<json> jobs;
  if (!ReadList(admin, "/api/v1/jobs", jobs, &error)) {
    Add(rep.other, error);
    return rep;
  }
  rep.jobs_seen = jobs.size();
  std::set<int64_t> with_jobs;
  std::set<std::string> job_ids;
  for (const auto& j : jobs) {
    const std::string id = j["id"].get<std::string>();
    job_ids.insert(id);
    // Proposal jobs are named p<proposal>.r<revision>.<plugin>.
    if (id.size() > 1 && id[0] == 'p') with_jobs.insert(std::atoll(id.c_str() + 1));
    if (!queued_jobs.count(id)) Add(rep.partial, "job " + id + " exists without a queued event");
    if (options.jobs_timeout_ms > 0) {
      const std::string state = j.value("state", "");
      if (state != "done" && state != "failed")
        Add(rep.jobs, "job " + id + " is " + state);
      else if (state == "failed" && j.value("outcome", "").empty())
        Add(rep.jobs, "job " + id + " failed without a reason");
      if (options.exactly_once && terminal[id] != 1)
        Add(rep.jobs,
            "job " + id + " ended " + std::to_string(terminal[id]) + " times in the event log");
    }
  }
  for (const auto& id : queued_jobs)
    if (!job_ids.count(id))
      Add(rep.partial, "queued event for job " + id + ", which does not exist");
  for (const auto& [id, agreement] : present)
    if (!with_jobs.count(id))
      Add(rep.partial, "proposal " + std::to_string(id) + " has no check job");
  return rep;
}

// ---- LoopImage ----

int Shell(const std::string& command, std::string* output) {
  std::string out;
  FILE* p = ::popen((command + " 2>&1").c_str(), "r");
  if (!p) return -1;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) out.append(buf.data(), n);
  const int status = ::pclose(p);
  if (output) *output += out;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

namespace {
std::string Quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}
bool Run(const std::string& cmd, std::string* error) {
  std::string out;
  if (Shell(cmd, &out) == 0) return true;
  if (error) *error = cmd + ": " + out;
  return false;
}
}  // namespace

LoopImage::LoopImage(std::string image_path, int size_mb)
    : image_(std::move(image_path)), size_mb_(size_mb) {}

LoopImage::~LoopImage() {
  std::string ignored;
  if (!dir_.empty()) (void)Unmount(&ignored);
  ::unlink(image_.c_str());
}

bool LoopImage::Available(std::string* why) {
  if (::geteuid() != 0) {
    *why = "needs root (loop mounts)";
    return false;
  }
  struct stat st;
  if (::stat("/dev/loop-control", &st) != 0) {
    *why = "no /dev/loop-control";
    return false;
  }
  if (Shell("command -v mkfs.ext4 && command -v mount && command -v cp") != 0) {
    *why = "mkfs.ext4, mount or cp missing";
    return false;
  }
  return true;
}

bool LoopImage::Create(std::string* error) {
  return Run("truncate -s " + std::to_string(size_mb_) + "M " + Quote(image_) +
                 " && mkfs.ext4 -q -F " + Quote(image_),
             error);
}

bool LoopImage::Mount(const std::string& dir, std::string* error) {
  if (!Run("mount -o loop " + Quote(image_) + " " + Quote(dir), error)) return false;
  dir_ = dir;
  return true;
}

bool LoopImage::Sync(std::string* error) { return Run("sync -f " + Quote(dir_), error); }

bool LoopImage::Unmount(std::string* error) {
  if (dir_.empty()) return true;
  // A lazy unmount if something (a dying worker) still holds a file open.
  if (!Run("umount " + Quote(dir_), error) && !Run("umount -l " + Quote(dir_), error)) return false;
  dir_.clear();
  return true;
}

bool LoopImage::PowerCut(std::string* error) {
  const std::string dir = dir_;
  const std::string copy = image_ + ".cut" + std::to_string(++generation_);
  // The copy reads the image file, which holds exactly what the loop device
  // was given: what the mounted file system wrote back or flushed. Its dirty
  // page cache (unsynced writes) is not in the file, so it is not copied.
  if (!Run("cp --sparse=always " + Quote(image_) + " " + Quote(copy), error)) return false;
  if (!Unmount(error))
    return false;  // writes the lost state back into the old image, which we drop
  ::unlink(image_.c_str());
  image_ = copy;
  return Mount(dir, error);
}

}  // namespace normbase::faults
