#include "store/records.h"

#include <nlohmann/json.hpp>

namespace normbase::store {

using domain::Json;

namespace {

constexpr char kCodebookKey[] = "current";
constexpr char kDatasetCounter[] = "counter/dataset_revision";

std::string Sep(const std::string& id) { return id + std::string(1, '\0'); }

Result<Json> ParseStored(const std::string& text, const char* what) {
  auto j = domain::ParseJson(text);
  if (!j.ok()) return Status::Internal(std::string("stored ") + what + " is corrupt");
  return std::move(j).value();
}

Result<std::optional<domain::Agreement>> DecodeAgreement(const std::optional<std::string>& v) {
  if (!v) return std::optional<domain::Agreement>();
  NB_ASSIGN_OR_RETURN(Json j, ParseStored(*v, "agreement"));
  NB_ASSIGN_OR_RETURN(auto a, domain::AgreementFromJson(j, domain::Decode::kStored));
  return std::optional<domain::Agreement>(std::move(a));
}

}  // namespace

Result<std::optional<domain::Codebook>> LoadCodebook(const Reader& r) {
  NB_ASSIGN_OR_RETURN(auto v, r.Get(Table::kCodebook, kCodebookKey));
  if (!v) return std::optional<domain::Codebook>();
  NB_ASSIGN_OR_RETURN(Json j, ParseStored(*v, "codebook"));
  NB_ASSIGN_OR_RETURN(auto cb, domain::CodebookFromJson(j));
  return std::optional<domain::Codebook>(std::move(cb));
}

void SaveCodebook(WriteContext& w, const domain::Codebook& cb) {
  const std::string text = domain::Dump(domain::ToJson(cb));
  w.Put(Table::kCodebook, kCodebookKey, text);
  w.Put(Table::kCodebook, "v/" + EncodeU64(static_cast<uint64_t>(cb.version)), text);
}

Result<int64_t> DatasetRevision(const Reader& r) {
  NB_ASSIGN_OR_RETURN(auto v, r.Get(Table::kMeta, kDatasetCounter));
  return v ? std::stoll(*v) : int64_t{0};
}

Result<int64_t> NextDatasetRevision(WriteContext& w) { return w.NextId("dataset_revision"); }

void SaveDatasetRevision(WriteContext& w, int64_t revision, const Json& record) {
  w.Put(Table::kDatasetRevisions, EncodeU64(static_cast<uint64_t>(revision)), domain::Dump(record));
}

Result<std::optional<Json>> LoadDatasetRevision(const Reader& r, int64_t revision) {
  NB_ASSIGN_OR_RETURN(auto v, r.Get(Table::kDatasetRevisions, EncodeU64(static_cast<uint64_t>(revision))));
  if (!v) return std::optional<Json>();
  NB_ASSIGN_OR_RETURN(Json j, ParseStored(*v, "dataset revision"));
  return std::optional<Json>(std::move(j));
}

Result<std::optional<domain::Agreement>> LoadAgreement(const Reader& r, const std::string& id) {
  NB_ASSIGN_OR_RETURN(auto v, r.Get(Table::kAgreements, id));
  return DecodeAgreement(v);
}

Status ForEachAgreement(const Reader& r, const std::string& after_id,
                        const std::function<bool(domain::Agreement&&)>& fn) {
  Status err;
  // Keys are ids; starting "after" an id means at id + "\0".
  const std::string start = after_id.empty() ? std::string() : after_id + std::string(1, '\0');
  NB_RETURN_IF_ERROR(r.Scan(Table::kAgreements, "", start, [&](auto, std::string_view v) {
    auto a = DecodeAgreement(std::string(v));
    if (!a.ok()) {
      err = a.status();
      return false;
    }
    return fn(std::move(**a));
  }));
  return err;
}

Result<std::optional<domain::Agreement>> LoadAgreementRevision(const Reader& r,
                                                               const std::string& id,
                                                               int64_t agreement_revision) {
  NB_ASSIGN_OR_RETURN(auto v, r.Get(Table::kAgreementHistory,
                                    Sep(id) + EncodeU64(static_cast<uint64_t>(agreement_revision))));
  if (!v) return std::optional<domain::Agreement>();
  NB_ASSIGN_OR_RETURN(Json j, ParseStored(*v, "history entry"));
  if (!j.contains("agreement") || j["agreement"].is_null()) return std::optional<domain::Agreement>();
  NB_ASSIGN_OR_RETURN(auto a, domain::AgreementFromJson(j["agreement"], domain::Decode::kStored));
  return std::optional<domain::Agreement>(std::move(a));
}

Result<std::optional<domain::Agreement>> LoadAgreementAt(const Reader& r, const std::string& id,
                                                         int64_t dataset_revision) {
  NB_ASSIGN_OR_RETURN(auto hit, r.SeekForPrev(Table::kAgreementAt, Sep(id),
                                              Sep(id) + EncodeU64(static_cast<uint64_t>(dataset_revision))));
  if (!hit) return std::optional<domain::Agreement>();
  NB_ASSIGN_OR_RETURN(auto a, LoadAgreementRevision(r, id, static_cast<int64_t>(DecodeU64(hit->second))));
  if (a && a->retired) return std::optional<domain::Agreement>();
  return a;
}

void WriteAgreementVersion(WriteContext& w, const domain::Agreement& a, int64_t dataset_revision,
                           Json provenance) {
  Json agreement = domain::ToJson(a);
  w.Put(Table::kAgreements, a.id, domain::Dump(agreement));
  provenance["agreement_revision"] = a.revision;
  provenance["dataset_revision"] = dataset_revision;
  provenance["at"] = w.Now();
  provenance["agreement"] = std::move(agreement);
  w.Put(Table::kAgreementHistory, Sep(a.id) + EncodeU64(static_cast<uint64_t>(a.revision)),
        domain::Dump(provenance));
  w.Put(Table::kAgreementAt, Sep(a.id) + EncodeU64(static_cast<uint64_t>(dataset_revision)),
        EncodeU64(static_cast<uint64_t>(a.revision)));
}

Result<std::vector<Json>> LoadHistory(const Reader& r, const std::string& id) {
  std::vector<Json> out;
  Status err;
  NB_RETURN_IF_ERROR(r.Scan(Table::kAgreementHistory, Sep(id), "", [&](auto, std::string_view v) {
    auto j = ParseStored(std::string(v), "history entry");
    if (!j.ok()) {
      err = j.status();
      return false;
    }
    out.push_back(std::move(j).value());
    return true;
  }));
  NB_RETURN_IF_ERROR(err);
  return out;
}

Result<std::optional<domain::Proposal>> LoadProposal(const Reader& r, int64_t id) {
  NB_ASSIGN_OR_RETURN(auto v, r.Get(Table::kProposals, EncodeU64(static_cast<uint64_t>(id))));
  if (!v) return std::optional<domain::Proposal>();
  NB_ASSIGN_OR_RETURN(Json j, ParseStored(*v, "proposal"));
  NB_ASSIGN_OR_RETURN(auto p, domain::ProposalFromJson(j));
  return std::optional<domain::Proposal>(std::move(p));
}

void SaveProposal(WriteContext& w, const domain::Proposal& p) {
  w.Put(Table::kProposals, EncodeU64(static_cast<uint64_t>(p.id)), domain::Dump(domain::ToJson(p)));
  w.Put(Table::kProposalsByAgreement, Sep(p.agreement_id) + EncodeU64(static_cast<uint64_t>(p.id)), "");
}

Status ForEachProposal(const Reader& r, int64_t after_id,
                       const std::function<bool(domain::Proposal&&)>& fn) {
  Status err;
  NB_RETURN_IF_ERROR(r.Scan(Table::kProposals, "", EncodeU64(static_cast<uint64_t>(after_id + 1)),
                            [&](auto, std::string_view v) {
                              auto j = ParseStored(std::string(v), "proposal");
                              if (!j.ok()) {
                                err = j.status();
                                return false;
                              }
                              auto p = domain::ProposalFromJson(*j);
                              if (!p.ok()) {
                                err = p.status();
                                return false;
                              }
                              return fn(std::move(p).value());
                            }));
  return err;
}

Result<std::vector<int64_t>> ProposalIdsForAgreement(const Reader& r, const std::string& agreement_id) {
  std::vector<int64_t> ids;
  const std::string prefix = Sep(agreement_id);
  NB_RETURN_IF_ERROR(r.Scan(Table::kProposalsByAgreement, prefix, "", [&](std::string_view k, auto) {
    ids.push_back(static_cast<int64_t>(DecodeU64(k.substr(prefix.size()))));
    return true;
  }));
  return ids;
}

Result<std::optional<domain::User>> LoadUser(const Reader& r, int64_t id) {
  NB_ASSIGN_OR_RETURN(auto v, r.Get(Table::kUsers, "u/" + EncodeU64(static_cast<uint64_t>(id))));
  if (!v) return std::optional<domain::User>();
  NB_ASSIGN_OR_RETURN(Json j, ParseStored(*v, "user"));
  NB_ASSIGN_OR_RETURN(auto u, domain::UserFromJson(j));
  return std::optional<domain::User>(std::move(u));
}

Result<std::optional<domain::User>> FindUserByName(const Reader& r, const std::string& name) {
  NB_ASSIGN_OR_RETURN(auto v, r.Get(Table::kUsers, "name/" + name));
  if (!v) return std::optional<domain::User>();
  return LoadUser(r, static_cast<int64_t>(DecodeU64(*v)));
}

void SaveUser(WriteContext& w, const domain::User& u) {
  w.Put(Table::kUsers, "u/" + EncodeU64(static_cast<uint64_t>(u.id)), domain::Dump(domain::ToJson(u)));
  w.Put(Table::kUsers, "name/" + u.name, EncodeU64(static_cast<uint64_t>(u.id)));
}

Status ForEachUser(const Reader& r, const std::function<bool(domain::User&&)>& fn) {
  Status err;
  NB_RETURN_IF_ERROR(r.Scan(Table::kUsers, "u/", "", [&](auto, std::string_view v) {
    auto j = ParseStored(std::string(v), "user");
    if (!j.ok()) {
      err = j.status();
      return false;
    }
    auto u = domain::UserFromJson(*j);
    if (!u.ok()) {
      err = u.status();
      return false;
    }
    return fn(std::move(u).value());
  }));
  return err;
}

Result<std::optional<domain::TokenRecord>> LoadTokenByHash(const Reader& r, const std::string& hash) {
  NB_ASSIGN_OR_RETURN(auto v, r.Get(Table::kTokens, "h/" + hash));
  if (!v) return std::optional<domain::TokenRecord>();
  NB_ASSIGN_OR_RETURN(Json j, ParseStored(*v, "token"));
  NB_ASSIGN_OR_RETURN(auto t, domain::TokenRecordFromJson(j));
  return std::optional<domain::TokenRecord>(std::move(t));
}

void SaveToken(WriteContext& w, const std::string& hash, const domain::TokenRecord& t) {
  w.Put(Table::kTokens, "h/" + hash, domain::Dump(domain::ToJson(t)));
  w.Put(Table::kTokens,
        "u/" + EncodeU64(static_cast<uint64_t>(t.user_id)) + EncodeU64(static_cast<uint64_t>(t.id)),
        hash);
}

Result<std::vector<std::pair<std::string, domain::TokenRecord>>> TokensOfUser(const Reader& r,
                                                                             int64_t user_id) {
  std::vector<std::string> hashes;
  NB_RETURN_IF_ERROR(r.Scan(Table::kTokens, "u/" + EncodeU64(static_cast<uint64_t>(user_id)), "",
                            [&](auto, std::string_view v) {
                              hashes.emplace_back(v);
                              return true;
                            }));
  std::vector<std::pair<std::string, domain::TokenRecord>> out;
  for (const auto& h : hashes) {
    NB_ASSIGN_OR_RETURN(auto t, LoadTokenByHash(r, h));
    if (t) out.emplace_back(h, *t);
  }
  return out;
}

}  // namespace normbase::store
