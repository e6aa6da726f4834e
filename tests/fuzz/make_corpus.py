#!/usr/bin/python3
"""Writes the seed corpora of the fuzz targets (corpus/<target>/) from the
seed data and hand-written examples of every input kind. Run it again after a
format changes; libFuzzer adds what it finds to a copy (scripts/fuzz.sh), not
to these. Frames for fuzz_bus_frames are encoded with protoc from text format.

usage: make_corpus.py [--csv EXPORT.csv]   (the server's /api/v1/export.csv of the seed)
"""
import argparse, json, os, subprocess, sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def write(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def http(method, target, body=None, token=True, ctype="application/json", extra=""):
    head = f"{method} {target} HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n"
    if token:
        head += "Authorization: Bearer ADMIN\r\n"
    head += extra
    if body is None:
        return head + "\r\n"
    b = body if isinstance(body, str) else json.dumps(body)
    return head + f"Content-Type: {ctype}\r\nContent-Length: {len(b.encode())}\r\n\r\n" + b


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--csv", help="a CSV export of the seed dataset")
    args = ap.parse_args()
    seed = json.load(open(os.path.join(ROOT, "data", "seed", "agreements.json")))
    agreements = seed["agreements"]
    paris = next(a for a in agreements if a["id"] == "paris-call-2018")
    small = dict(paris)
    small["codings"] = dict(list(paris["codings"].items())[:2])
    new = {"id": "fuzz-example-2024", "title": "Example Declaration", "year": 2024, "date": "2024-05-01",
           "kind": "regional", "leading_stakeholders": ["government"], "parties": "Two states",
           "source_url": "https://example.org/decl",
           "codings": {"human-rights": {"evidence": [{"quote": "States respect human rights online.",
                                                      "locator": "art. 2", "source_url": "https://example.org/decl"}],
                                        "note": "operative"}}}
    recode = {"kind": "recode", "agreement_id": "paris-call-2018", "base_revision": 1,
              "codings": {"ransomware": {"evidence": [{"quote": "ransomware", "locator": "p. 1"}], "note": ""}},
              "rationale": "read the text again"}
    amend = {"kind": "amend", "agreement_id": "paris-call-2018", "base_revision": 1,
             "fields": {"title": "Paris Call", "year": 2018}, "rationale": "shorter title"}
    retire = {"kind": "retire", "agreement_id": "un-gge-2010", "base_revision": 1, "rationale": "duplicate"}
    add = {"kind": "add", "agreement": new, "rationale": "adopted in 2024"}

    # fuzz_http: whole requests, as a client sends them.
    reqs = {
        "healthz": http("GET", "/healthz", token=False),
        "agreements_query": http("GET", "/api/v1/agreements?kind=multistakeholder&element=human-rights&year_from=2015&year_to=2020&q=paris&limit=5", token=False),
        "agreement": http("GET", "/api/v1/agreements/paris-call-2018?revision=1", token=False),
        "history": http("GET", "/api/v1/agreements/paris%2Dcall%2D2018/history", token=False),
        "proposals_list": http("GET", "/api/v1/proposals?status=open&limit=10&cursor=", token=False),
        "proposal": http("GET", "/api/v1/proposals/1", token=False),
        "diff": http("GET", "/api/v1/proposals/1/diff?revision=1", token=False),
        "events": http("GET", "/api/v1/events?since=0&limit=3", token=False),
        "export_csv": http("GET", "/api/v1/export.csv", token=False),
        "codebook_head": http("HEAD", "/api/v1/codebook", token=False),
        "add": http("POST", "/api/v1/proposals", add),
        "recode": http("POST", "/api/v1/proposals", recode),
        "amend": http("POST", "/api/v1/proposals", amend),
        "retire": http("POST", "/api/v1/proposals", retire),
        "review": http("POST", "/api/v1/proposals/1/reviews", {"verdict": "approve", "text": "checked the quotes"}),
        "comment": http("POST", "/api/v1/proposals/1/comments", {"text": "which paragraph?"}),
        "revision": http("POST", "/api/v1/proposals/1/revisions", dict(recode, rationale="revised")),
        "merge": http("POST", "/api/v1/proposals/1/merge", {}),
        "users": http("POST", "/api/v1/users", {"name": "ana", "role": "moderator", "stakeholder_group": "academia"}),
        "patch_user": http("PATCH", "/api/v1/users/2", {"role": "contributor", "disabled": False}),
        "token": http("POST", "/api/v1/users/2/tokens", {"label": "laptop"}),
        "revoke": http("DELETE", "/api/v1/users/2/tokens/2"),
        "import_dry": http("POST", "/api/v1/import?dry_run=true", {"agreements": [small]}),
        "whoami_lowercase_scheme": http("GET", "/api/v1/whoami", token=False, extra="Authorization: bearer ADMIN\r\n"),
        "jobs": http("GET", "/api/v1/jobs?limit=5"),
        "pipelined": http("GET", "/healthz", token=False) + http("GET", "/api/v1/codebook", token=False),
        "chunked": "POST /api/v1/proposals/1/comments HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ADMIN\r\n"
                   "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
                   "b\r\n{\"text\":\"hi\r\n2\r\n\"}\r\n0\r\n\r\n",
        "bad_percent": http("GET", "/api/v1/agre%zzments", token=False),
        "method_not_allowed": http("DELETE", "/api/v1/agreements"),
    }
    for name, r in reqs.items():
        write("fuzz_http", name, r)

    # fuzz_json_bodies: selector byte (route index, see kRoutes) + body.
    bodies = [
        (0, add), (0, recode), (0, amend), (0, retire),
        (1, dict(recode, rationale="revised")), (2, {"text": "which paragraph?", "revision": 1}),
        (3, {"verdict": "approve"}), (3, {"verdict": "request_changes", "text": "quote is wrong"}),
        (4, {}), (5, {"reason": "out of scope"}), (6, {}), (7, {}),
        (8, {"name": "ben", "role": "contributor", "stakeholder_group": "private-sector"}),
        (9, {"role": "moderator"}), (10, {"label": "ci"}),
        (11, {"agreements": [small, new]}), (11, [new]),
    ]
    for i, (sel, body) in enumerate(bodies):
        write("fuzz_json_bodies", f"body_{i:02d}", bytes([sel]) + json.dumps(body).encode())

    # fuzz_import: 0 + CSV, 1 + JSON.
    write("fuzz_import", "seed_json", b"\x01" + json.dumps(seed).encode())
    write("fuzz_import", "array_json", b"\x01" + json.dumps([small, new]).encode())
    if args.csv:
        write("fuzz_import", "export_csv", b"\x00" + open(args.csv, "rb").read())
    write("fuzz_import", "small_csv", b"\x00" + (
        "\ufeffid,title,year,date,kind,leading_stakeholders,parties,source_url,bpf_inclusion,coded,human-rights,ransomware\r\n"
        "fuzz-csv-2024,\"A \"\"quoted\"\", title, with commas\",2024,2024-01-02,regional,government; civil-society,"
        "\"two\nlines\",https://example.org/x,confirmed,1,1,0\r\n"
        "fuzz-formula-2024,'=SUM(A1),,,bilateral,,,,,0,,\n").encode())

    # fuzz_stream: the upgrade query, then one client message per line.
    write("fuzz_stream", "subscribe", 'since=0&topics=proposals\n{"op":"subscribe","topics":["proposal:1","agreement:paris-call-2018"]}\n{"op":"ping"}\n{"op":"unsubscribe","topics":["proposals"]}\n')
    write("fuzz_stream", "privileged", 'token=ADMIN&topics=users,dataset,checks,workers\n{"op":"subscribe","topics":["all"]}\n{"op":"unsubscribe","topics":["users","all","dataset","checks","workers"]}\n{"op":"subscribe","topics":[]}\n')
    write("fuzz_stream", "bad", 'topics=users\n{"op":"dance"}\n[1,2]\n{"op":"subscribe","topics":"x"}\n')

    # fuzz_bus_frames: envelopes a worker sends, encoded by protoc.
    proto = os.path.join(ROOT, "proto")
    frames = {
        "hello": 'protocol: 1 hello { worker_id: "w1" capacity: 2 hostname: "h" pid: 7 software: "normbase-worker 0.1.0" '
                 'plugins { name: "codebook" version: "1" kind: "check" abi_version: 1 } '
                 'plugins { name: "element-frequency" version: "1" kind: "analysis" abi_version: 1 } '
                 'features: "shared-input" features: "from-the-future" }',
        "hello_bad_abi": 'protocol: 1 hello { worker_id: "w2" capacity: 1 plugins { name: "x" kind: "check" abi_version: 99 } }',
        "heartbeat": 'protocol: 1 heartbeat { running: "job-1" }',
        "progress": 'protocol: 1 progress { job_id: "job-1" attempt: 1 fraction: 0.5 message: "half" }',
        "result_ok": 'protocol: 1 result { job_id: "job-1" attempt: 1 status: OK output: "{\\"outcome\\":\\"pass\\",\\"summary\\":\\"ok\\"}" duration_ms: 3 }',
        "result_failed": 'protocol: 1 result { job_id: "job-1" attempt: 1 status: FAILED message: "boom" }',
        "goodbye": 'protocol: 1 goodbye { reason: "draining" returned_jobs: "job-1" }',
        "error": 'protocol: 1 error { code: MALFORMED message: "what?" }',
        "other_version": 'protocol: 2 heartbeat { }',
    }
    for name, text in frames.items():
        out = subprocess.run(["protoc", "--encode=normbase.bus.v1.Envelope", "-I", proto,
                              os.path.join(proto, "normbase/bus/v1/worker.proto")],
                             input=text.encode(), capture_output=True, check=True).stdout
        write("fuzz_bus_frames", name, out)
    print("corpora written under", os.path.join(HERE, "corpus"))


if __name__ == "__main__":
    sys.exit(main())
