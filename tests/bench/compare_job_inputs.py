#!/usr/bin/env python3
"""Two normbase-server builds, alternated, under the default job mix: what
the core spends per job while 200 "add" proposals (each queues the four
checks and one impact analysis) drain through two local workers.

    tests/bench/compare_job_inputs.py BEFORE_BIN AFTER_BIN [PAIRS]

Each run starts a fresh server on the seed data with `--workers 2
--workers.capacity 4`, waits until the seed's dataset analyses are done (they
are an impact job's baseline), then submits the proposals and waits for every
result. Prints per run the broker thread's and the committer thread's CPU
(user + system, from /proc/<pid>/task/*/stat, 10 ms ticks) per job and the
input bytes the bus sent per job. Standard library only.
"""
import json, os, subprocess, sys, tempfile, time, urllib.request, shutil
def cpu(pid, comm):
    t = 0
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            if open(f"/proc/{pid}/task/{tid}/comm").read().strip() != comm: continue
            f = open(f"/proc/{pid}/task/{tid}/stat").read().rsplit(")", 1)[1].split()
            t += int(f[11]) + int(f[12])
        except OSError: pass
    return t * 10000  # µs (100 Hz ticks)
def req(base, token, method, path, body=None):
    r = urllib.request.Request(base + path, method=method, data=json.dumps(body).encode() if body is not None else None,
                               headers={"Authorization": "Bearer " + token, "Content-Type": "application/json"})
    with urllib.request.urlopen(r) as f: return json.loads(f.read() or b"{}")
def metric(base, name):
    for line in urllib.request.urlopen(base + "/metrics").read().decode().splitlines():
        if line.startswith(name + " "): return float(line.split()[1])
    return 0
def run(binary, n):
    d = tempfile.mkdtemp()
    p = subprocess.Popen([binary, "--data", d + "/data", "--listen", "127.0.0.1:0", "--ready-file", d + "/ready",
                          "--bus.endpoint", "tcp://127.0.0.1:0", "--workers", "2", "--workers.capacity", "4", "--log-level", "warn"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while not (os.path.exists(d + "/ready") and open(d + "/ready").read().strip()): time.sleep(0.05)
    base = open(d + "/ready").read().strip(); token = open(d + "/data/bootstrap-admin.token").read().strip()
    while True:
        items = req(base, token, "GET", "/api/v1/analyses")["items"]
        if all(i.get("latest", {}).get("state") == "done" for i in items): break
        time.sleep(0.1)
    b0, c0, r0 = cpu(p.pid, "nb-broker"), cpu(p.pid, "nb-committer"), metric(base, "normbase_bus_results_total"); y0 = metric(base, "normbase_bus_job_bytes_out_total")
    for i in range(n):
        aid = f"ab-{i}"
        req(base, token, "POST", "/api/v1/proposals", {"kind": "add", "rationale": "ab", "agreement": {
            "id": aid, "title": "AB " + aid, "year": 2024, "kind": "bilateral", "leading_stakeholders": ["government"],
            "parties": "Two states", "source_url": "https://example.org/" + aid,
            "codings": {"human-rights": {"evidence": [{"quote": "Both respect human rights.", "locator": "art. 1"}], "note": "x"}}}})
    while metric(base, "normbase_bus_results_total") - r0 < 5 * n or metric(base, "normbase_bus_jobs_in_flight") > 0:
        time.sleep(0.1)
    jobs = metric(base, "normbase_bus_results_total") - r0
    b1, c1 = cpu(p.pid, "nb-broker"), cpu(p.pid, "nb-committer"); y1 = metric(base, "normbase_bus_job_bytes_out_total")
    p.terminate(); p.wait(); shutil.rmtree(d)
    return (b1 - b0) / jobs, (c1 - c0) / jobs, jobs, (y1 - y0) / jobs
if len(sys.argv) < 3:
    sys.exit(__doc__)
for i in range(int(sys.argv[3]) if len(sys.argv) > 3 else 5):
    for label, b in (("before", sys.argv[1]), ("after", sys.argv[2])):
        br, co, jobs, by = run(b, 200)
        print(f"{i+1} {label:6} broker {br:6.1f} us/job  committer {co:6.1f} us/job  ({jobs:.0f} jobs, {by:.0f} input bytes sent per job)", flush=True)
