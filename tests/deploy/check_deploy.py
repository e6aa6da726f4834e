#!/usr/bin/python3
"""Checks the deployment files in deploy/ as far as they can be checked here.

Run by ctest as deploy.<check> (tests/CMakeLists.txt), or by hand:
  /usr/bin/python3 tests/deploy/check_deploy.py CHECK --root . --server-bin build/core/normbase-server
CHECK is one of: systemd, container, compose, k8s, flags, operator_docs, all.

Each check parses the files (YAML with python3-yaml, TOML with tomllib, the
systemd units with `systemd-analyze verify` plus a parse of their keys, the
Containerfile by its instructions) and checks what a deployment relies on.
`flags` runs the real binaries' --help and checks that every flag the deploy
files pass exists. Flags of the job bus that the contract names but the
server does not register yet are reported as PENDING, not failed; the worker
checks are skipped with a message while normbase-worker is not built.
"""
import argparse
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import tomllib

import yaml

# Server flags the job-bus contract names (docs/operators.md) that may not be
# registered yet; once `normbase-server --help` lists them they are checked like any other.
PENDING_SERVER_FLAGS = {
    "--bus.endpoint", "--bus.curve-key", "--bus.allowed-keys", "--workers", "--plugins.dir",
    "--jobs.max-attempts", "--jobs.timeout-ms", "--bus.heartbeat-ms", "--bus.heartbeat-expiry-ms",
}

FAILURES = []


def fail(where, message):
    FAILURES.append(f"{where}: {message}")


def check(cond, where, message):
    if not cond:
        fail(where, message)
    return cond


def rel(root, path):
    return os.path.relpath(path, root)


def help_flags(binary):
    """The long flags a binary's --help lists, or None when it cannot run."""
    if not binary or not os.access(binary, os.X_OK):
        return None
    out = subprocess.run([binary, "--help"], capture_output=True, text=True, timeout=30)
    return set(re.findall(r"(?<![\w-])(--[a-z][a-z0-9_.-]*)", out.stdout + out.stderr))


def flags_in_args(args):
    """`--name` and `--name=value` items of an argument list, as --name."""
    return {a.split("=", 1)[0] for a in args if isinstance(a, str) and a.startswith("--")}


def toml_flags(doc, prefix=""):
    """The flags a normbase.toml sets: sections give dotted names."""
    flags = set()
    for key, value in doc.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flags |= toml_flags(value, name + ".")
        else:
            flags.add("--" + name)
    return flags


# ---- systemd ------------------------------------------------------------------------------------

def parse_unit(path):
    """{section: [(key, value)]}, keeping repeated keys."""
    sections, current = {}, None
    with open(path) as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line or line[0] in "#;":
                continue
            if line.startswith("[") and line.endswith("]"):
                current = line[1:-1]
                sections.setdefault(current, [])
                continue
            if current is None or "=" not in line:
                fail(rel(ROOT, path), f"line {n} is neither a section nor key=value: {line}")
                continue
            k, v = line.split("=", 1)
            sections[current].append((k.strip(), v.strip()))
    return sections


def values(unit, section, key):
    return [v for k, v in unit.get(section, []) if k == key]


HARDENING = {
    "NoNewPrivileges": "yes", "ProtectSystem": "strict", "ProtectHome": "yes", "PrivateTmp": "yes",
    "PrivateDevices": "yes", "ProtectKernelTunables": "yes", "ProtectKernelModules": "yes",
    "ProtectControlGroups": "yes", "RestrictNamespaces": "yes", "RestrictSUIDSGID": "yes",
    "LockPersonality": "yes", "CapabilityBoundingSet": "", "UMask": "0077",
}


def systemd_verify(path, exec_binary, real_binary, instance=None):
    """systemd-analyze verify on a copy whose ExecStart names a binary that exists here."""
    if not shutil.which("systemd-analyze"):
        print("SKIP systemd-analyze verify: systemd-analyze is not installed (parsed the keys only)")
        return
    with tempfile.TemporaryDirectory() as tmp:
        text = open(path).read()
        if real_binary and os.access(real_binary, os.X_OK):
            text = text.replace(exec_binary, real_binary)
        else:
            print(f"NOTE {os.path.basename(path)}: {exec_binary} is not built; verifying with /bin/true in its place")
            text = text.replace(exec_binary, "/bin/true")
        name = os.path.basename(path)
        if instance:
            name = name.replace("@.", f"@{instance}.")
        copy = os.path.join(tmp, name)
        with open(copy, "w") as f:
            f.write(text)
        r = subprocess.run(["systemd-analyze", "verify", copy], capture_output=True, text=True, timeout=60)
        # verify exits 0 on unknown keys and only warns: any line about our file is a failure.
        complaints = [l for l in (r.stdout + r.stderr).splitlines() if name in l or "Unknown" in l]
        check(r.returncode == 0 and not complaints, rel(ROOT, path),
              "systemd-analyze verify: " + "; ".join(complaints or [r.stderr.strip()]))


def check_systemd(args):
    d = os.path.join(ROOT, "deploy", "systemd")
    server = os.path.join(d, "normbase-server.service")
    worker = os.path.join(d, "normbase-worker@.service")
    for path, binary, real in ((server, "/usr/local/bin/normbase-server", args.server_bin),
                               (worker, "/usr/local/bin/normbase-worker", args.worker_bin)):
        where = rel(ROOT, path)
        if not check(os.path.exists(path), where, "missing"):
            continue
        unit = parse_unit(path)
        for s in ("Unit", "Service", "Install"):
            check(s in unit, where, f"no [{s}] section")
        execs = values(unit, "Service", "ExecStart")
        check(len(execs) == 1 and shlex.split(execs[0])[0] == binary, where, f"ExecStart must run {binary}")
        check(values(unit, "Service", "DynamicUser") == ["yes"] or values(unit, "Service", "User"),
              where, "must not run as root (User= or DynamicUser=yes)")
        for key, want in HARDENING.items():
            check(want in values(unit, "Service", key), where, f"hardening: {key}={want} is missing")
        check(values(unit, "Service", "RestrictAddressFamilies"), where, "hardening: RestrictAddressFamilies")
        check(any(v.startswith("@system-service") for v in values(unit, "Service", "SystemCallFilter")),
              where, "hardening: SystemCallFilter=@system-service")
        check(values(unit, "Service", "Restart"), where, "no Restart= policy")
        check(values(unit, "Install", "WantedBy"), where, "no WantedBy=: cannot be enabled")
        systemd_verify(path, binary, real, instance="1" if "@." in path else None)

    unit = parse_unit(server)
    cmd = shlex.split(values(unit, "Service", "ExecStart")[0])
    check("--data" in cmd and cmd[cmd.index("--data") + 1] == "/var/lib/normbase"
          and values(unit, "Service", "StateDirectory") == ["normbase"], rel(ROOT, server),
          "the data folder must be the StateDirectory /var/lib/normbase")
    check(any("/var/backups/normbase" in v for v in values(unit, "Service", "ReadWritePaths")),
          rel(ROOT, server), "the server writes backups itself: their folder must be in ReadWritePaths")
    unit = parse_unit(worker)
    cmd = values(unit, "Service", "ExecStart")[0]
    for flag in ("--connect", "--key", "--server-key", "--plugins"):
        check(flag in cmd, rel(ROOT, worker), f"the worker needs {flag}")
    check("AF_UNIX" not in " ".join(values(unit, "Service", "RestrictAddressFamilies")), rel(ROOT, worker),
          "a worker only dials TCP")
    # The config the server unit reads is a valid TOML file of real keys.
    with open(os.path.join(ROOT, "deploy", "config", "normbase.toml"), "rb") as f:
        conf = tomllib.load(f)
    check(conf.get("bus", {}).get("curve-key") and conf.get("bus", {}).get("allowed-keys"),
          "deploy/config/normbase.toml", "a non-loopback bus needs curve-key and allowed-keys")


# ---- container ----------------------------------------------------------------------------------

def containerfile_instructions(path):
    """[(INSTRUCTION, argument text)], joining continuation lines."""
    out, buf = [], ""
    for line in open(path):
        s = line.rstrip("\n")
        if not buf and (not s.strip() or s.lstrip().startswith("#")):
            continue
        if s.endswith("\\"):
            buf += s[:-1] + " "
            continue
        buf += s
        word, _, rest = buf.strip().partition(" ")
        out.append((word.upper(), rest.strip()))
        buf = ""
    return out


def check_container(args):
    path = os.path.join(ROOT, "deploy", "container", "Containerfile")
    where = rel(ROOT, path)
    ins = containerfile_instructions(path)
    stages, copied = [], set()
    for word, arg in ins:
        if word == "FROM":
            m = re.match(r"(\S+)(?:\s+AS\s+(\S+))?$", arg, re.I)
            check(m, where, f"bad FROM: {arg}")
            if m:
                stages.append(m.group(2) or m.group(1))
        elif word == "COPY":
            parts = shlex.split(arg)
            opts = [p for p in parts if p.startswith("--")]
            srcs = [p for p in parts if not p.startswith("--")][:-1]
            src_stage = [o.split("=", 1)[1] for o in opts if o.startswith("--from=")]
            if src_stage:
                check(src_stage[0] in stages[:-1], where, f"COPY --from={src_stage[0]}: no earlier stage of that name")
                continue
            for s in srcs:
                check(os.path.exists(os.path.join(ROOT, s)), where, f"COPY source '{s}' does not exist in the repository")
                copied.add(os.path.normpath(s))
        elif word == "USER":
            check(arg.split(":")[0] not in ("0", "root"), where, "the runtime must not run as root")
    check(stages == ["build", "runtime"], where, f"expected the stages build, runtime; found {stages}")
    last_stage = [w for w, _ in ins][len(ins) - 1 - [w for w, _ in ins][::-1].index("FROM"):]
    check("USER" in last_stage, where, "the runtime stage sets no USER")
    exposed = " ".join(a for w, a in ins if w == "EXPOSE").split()
    check("8080" in exposed and "7700" in exposed, where, "EXPOSE 8080 (HTTP) and 7700 (bus)")
    # Every folder the top-level CMakeLists.txt builds must be in the build stage.
    top = open(os.path.join(ROOT, "CMakeLists.txt")).read()
    for sub in re.findall(r"add_subdirectory\(\s*([^\s)]+)", top):
        if sub.startswith("tests"):
            continue  # NORMBASE_TESTS=OFF in the image
        check(sub in copied or any(sub.startswith(c + "/") for c in copied), where,
              f"CMakeLists.txt builds '{sub}' but the Containerfile does not COPY it")
    check("scripts/debian-packages.txt" in copied, where, "the build stage must install scripts/debian-packages.txt")
    # The runtime packages exist in this Debian release (when apt knows its lists).
    runtime_apt = [a for w, a in ins[len(ins) - len(last_stage):] if w == "RUN" and "apt-get install" in a]
    pkgs = []
    for a in runtime_apt:
        tail = a.split("apt-get install", 1)[1].split("&&")[0]
        pkgs += [p for p in tail.split() if not p.startswith("-")]
    check(pkgs, where, "the runtime stage installs no shared libraries")
    if shutil.which("apt-cache"):
        for p in pkgs:
            r = subprocess.run(["apt-cache", "show", p], capture_output=True, text=True)
            check(r.returncode == 0 and r.stdout.strip(), where, f"runtime package '{p}' is unknown to apt")
    cmd = [a for w, a in ins if w == "CMD"]
    check(cmd and "normbase-server" in cmd[-1] and "/healthz" in " ".join(a for w, a in ins if w == "HEALTHCHECK"),
          where, "the default command runs the server and the health check asks /healthz")


# ---- compose ------------------------------------------------------------------------------------

def arg_after(cmd, flag):
    return cmd[cmd.index(flag) + 1] if flag in cmd and cmd.index(flag) + 1 < len(cmd) else None


def check_compose(args):
    path = os.path.join(ROOT, "deploy", "compose", "compose.yaml")
    where = rel(ROOT, path)
    doc = yaml.safe_load(open(path))
    services = doc.get("services", {})
    cores = {n: s for n, s in services.items() if "normbase-server" in (s.get("command") or [])}
    workers = {n: s for n, s in services.items() if "normbase-worker" in (s.get("command") or [])}
    if not check(len(cores) == 1, where, f"exactly one core service expected, found {list(cores)}"):
        return
    if not check(len(workers) >= 1, where, "no worker service"):
        return
    (core_name, core), = cores.items()
    ccmd = core["command"]
    endpoint = arg_after(ccmd, "--bus.endpoint") or ""
    m = re.match(r"tcp://([^:]+):(\d+)$", endpoint)
    check(m, where, f"core --bus.endpoint must be tcp://HOST:PORT, got '{endpoint}'")
    loopback = m and m.group(1) in ("127.0.0.1", "localhost", "::1")
    check(not loopback, where, "workers run in other containers: the bus must listen beyond loopback")
    # Beyond loopback the bus requires CurveZMQ.
    for flag in ("--bus.curve-key", "--bus.allowed-keys"):
        check(arg_after(ccmd, flag), where, f"a non-loopback bus needs {flag}")
    check(arg_after(ccmd, "--data") == "/var/lib/normbase" and
          any(str(v).endswith(":/var/lib/normbase") for v in core.get("volumes", [])),
          where, "the core's data must be on a volume")
    hc = " ".join(core.get("healthcheck", {}).get("test", []))
    check("/healthz" in hc, where, "the core's healthcheck must ask /healthz")
    secrets = doc.get("secrets", {})
    mounted = lambda svc: {s if isinstance(s, str) else s.get("source") for s in svc.get("secrets", [])}
    for flag in ("--bus.curve-key", "--bus.allowed-keys"):
        f = arg_after(ccmd, flag) or ""
        check(f.startswith("/run/secrets/") and f.rsplit("/", 1)[1] in mounted(core), where,
              f"core {flag} {f} is not one of its secrets")
    keygen = open(os.path.join(ROOT, "deploy", "compose", "make-keys.sh")).read()
    for name, s in secrets.items():
        check(s.get("file", "").startswith("./keys/"), where, f"secret {name} must come from ./keys")
        base = os.path.basename(s.get("file", ""))
        check(base.split(".")[0] in keygen, where, f"make-keys.sh does not make {base}")
    for wname, w in workers.items():
        wcmd = w["command"]
        conn = arg_after(wcmd, "--connect") or ""
        check(m and conn == f"tcp://{core_name}:{m.group(2)}", where,
              f"worker {wname} --connect {conn} must name the core service and its bus port")
        for flag in ("--key", "--server-key"):
            f = arg_after(wcmd, flag) or ""
            check(f.startswith("/run/secrets/") and f.rsplit("/", 1)[1] in mounted(w), where,
                  f"worker {flag} {f} is not one of its secrets (workers use CurveZMQ)")
        check("ports" not in w, where, "workers need no published port")
        check(w.get("deploy", {}).get("replicas", 1) >= 1, where, "worker replicas")
        dep = w.get("depends_on", {})
        check(core_name in dep, where, "workers should start after the core")
    for n, s in services.items():
        check(s.get("read_only") is True and "ALL" in s.get("cap_drop", []), where,
              f"service {n}: read_only and cap_drop ALL")


# ---- k8s ----------------------------------------------------------------------------------------

def load_k8s():
    d = os.path.join(ROOT, "deploy", "k8s")
    docs = []
    for name in sorted(os.listdir(d)):
        if name.endswith((".yaml", ".yml")):
            for doc in yaml.safe_load_all(open(os.path.join(d, name))):
                if doc:
                    docs.append((name, doc))
    return d, docs


def container_args(pod_spec):
    c = pod_spec["containers"][0]
    return c, (c.get("command") or []) + (c.get("args") or [])


def check_k8s(args):
    d, docs = load_k8s()
    where = "deploy/k8s"
    kust = [doc for n, doc in docs if doc.get("kind") == "Kustomization"]
    objs = [(n, doc) for n, doc in docs if doc.get("kind") != "Kustomization"]
    for n, doc in objs:
        check(doc.get("apiVersion") and doc.get("kind") and doc.get("metadata", {}).get("name"), f"{where}/{n}",
              "every object has apiVersion, kind and metadata.name")
    if check(len(kust) == 1, where, "one kustomization.yaml"):
        listed = set(kust[0].get("resources", []))
        files = {n for n, _ in objs}
        check(listed == files, where, f"kustomization resources {sorted(listed)} != files {sorted(files)}")
    by_kind = {}
    for n, doc in objs:
        by_kind.setdefault(doc["kind"], []).append(doc)
    for kind in ("StatefulSet", "Deployment", "Service", "Secret", "ConfigMap"):
        check(kind in by_kind, where, f"no {kind}")
    if FAILURES:
        return
    sts = [s for s in by_kind["StatefulSet"] if "normbase-server" in container_args(s["spec"]["template"]["spec"])[1]]
    if not check(len(sts) == 1, where, "one StatefulSet runs normbase-server"):
        return
    sts = sts[0]
    spec = sts["spec"]
    check(spec.get("replicas") == 1, where, "the core must have exactly 1 replica (RocksDB admits one writer)")
    pod = spec["template"]["spec"]
    core, cargs = container_args(pod)
    check(spec["selector"]["matchLabels"].items() <= spec["template"]["metadata"]["labels"].items(), where,
          "the StatefulSet selector must match its pod labels")
    # Persistent volume for the data folder.
    claims = {t["metadata"]["name"] for t in spec.get("volumeClaimTemplates", [])}
    data_mounts = [m for m in core.get("volumeMounts", []) if m["mountPath"] == arg_after(cargs, "--data")]
    check(claims and data_mounts and data_mounts[0]["name"] in claims, where,
          "--data must be on a volumeClaimTemplate (a persistent volume)")
    # Probes on /healthz, on a declared port.
    ports = {p["name"]: p["containerPort"] for p in core.get("ports", [])}
    for probe in ("readinessProbe", "livenessProbe"):
        hg = core.get(probe, {}).get("httpGet", {})
        check(hg.get("path") == "/healthz" and (hg.get("port") in ports or hg.get("port") in ports.values()),
              where, f"core {probe} must GET /healthz on a container port")
    # The Service fronts the core, by label and named ports.
    svcs = [s for s in by_kind["Service"] if s["spec"]["selector"].items() <= spec["template"]["metadata"]["labels"].items()]
    if not check(len(svcs) == 1 and svcs[0]["metadata"]["name"] == spec.get("serviceName"), where,
                 "one Service selects the core pods and is the StatefulSet's serviceName"):
        return
    svc = svcs[0]
    svc_ports = {p["name"]: p for p in svc["spec"]["ports"]}
    for p in svc_ports.values():
        check(p.get("targetPort") in ports, where, f"Service port {p['name']} targets no container port")
    check("bus" in svc_ports and "http" in svc_ports, where, "the Service exposes http and bus")
    # The configuration: a ConfigMap of TOML whose bus needs CurveZMQ keys from a Secret.
    config_path = arg_after(cargs, "--config")
    cm_mount = [m for m in core["volumeMounts"] if m["mountPath"] == config_path]
    if not check(cm_mount, where, "--config must be a mounted file"):
        return
    vols = {v["name"]: v for v in pod["volumes"]}
    cm_name = vols[cm_mount[0]["name"]]["configMap"]["name"]
    cm = [c for c in by_kind["ConfigMap"] if c["metadata"]["name"] == cm_name][0]
    conf = tomllib.loads(cm["data"][cm_mount[0]["subPath"]])
    bus = conf.get("bus", {})
    secrets = {s["metadata"]["name"]: s for s in by_kind["Secret"]}

    def secret_file_ok(path, mounts, volumes):
        for m in mounts:
            if path.startswith(m["mountPath"] + "/"):
                v = volumes[m["name"]]
                sec = secrets.get(v.get("secret", {}).get("secretName"))
                return sec is not None and path[len(m["mountPath"]) + 1:] in (sec.get("stringData") or sec.get("data") or {})
        return False
    check(not bus.get("endpoint", "").startswith("tcp://127.") , where, "the bus must listen beyond loopback")
    for key in ("curve-key", "allowed-keys"):
        check(secret_file_ok(bus.get(key, ""), core["volumeMounts"], vols), where,
              f"bus.{key} ({bus.get(key)}) must be a key of a mounted Secret")
    args.k8s_config_flags = toml_flags(conf)
    # Workers: a Deployment that dials the Service's bus port with CurveZMQ keys from a Secret.
    deps = [x for x in by_kind["Deployment"] if "normbase-worker" in container_args(x["spec"]["template"]["spec"])[1]]
    if not check(len(deps) == 1, where, "one Deployment runs normbase-worker"):
        return
    dep = deps[0]
    check(dep["spec"].get("replicas", 1) >= 2, where, "workers scale horizontally: replicas >= 2")
    wpod = dep["spec"]["template"]["spec"]
    worker, wargs = container_args(wpod)
    want = f"tcp://{svc['metadata']['name']}:{svc_ports['bus']['port']}"
    check(arg_after(wargs, "--connect") == want, where, f"workers must --connect {want}")
    wvols = {v["name"]: v for v in wpod["volumes"]}
    for flag in ("--key", "--server-key"):
        check(secret_file_ok(arg_after(wargs, flag) or "", worker.get("volumeMounts", []), wvols), where,
              f"worker {flag} must be a key of a mounted Secret")
    check("ports" not in worker, where, "workers listen on nothing")
    for name, c in (("core", core), ("worker", worker)):
        sc = c.get("securityContext", {})
        check(sc.get("allowPrivilegeEscalation") is False and sc.get("readOnlyRootFilesystem") is True, where,
              f"{name}: no privilege escalation, read-only root")
    for pspec, name in ((pod, "core"), (wpod, "worker")):
        check(pspec.get("securityContext", {}).get("runAsNonRoot") is True, where, f"{name} pods run as non-root")


# ---- flags --------------------------------------------------------------------------------------

def deploy_flag_uses():
    """{binary: {flag: [where]}} of every flag the deploy files pass."""
    uses = {"normbase-server": {}, "normbase-worker": {}}

    def add(binary, flags, where):
        for f in flags:
            uses[binary].setdefault(f, []).append(where)

    def from_cmd(cmd, where):
        if not cmd:
            return
        for binary in uses:
            if binary in cmd[0] or (len(cmd) > 1 and cmd[0] in ("exec",) and binary in cmd[1]):
                add(binary, flags_in_args(cmd), where)
                if binary == "normbase-worker" and len(cmd) > 1 and cmd[1] == "keygen":
                    pass
    for name in ("normbase-server.service", "normbase-worker@.service"):
        unit = parse_unit(os.path.join(ROOT, "deploy", "systemd", name))
        for e in values(unit, "Service", "ExecStart"):
            from_cmd(shlex.split(e), f"deploy/systemd/{name}")
    with open(os.path.join(ROOT, "deploy", "config", "normbase.toml"), "rb") as f:
        add("normbase-server", toml_flags(tomllib.load(f)), "deploy/config/normbase.toml")
    for w, a in containerfile_instructions(os.path.join(ROOT, "deploy", "container", "Containerfile")):
        if w == "CMD":
            from_cmd(yaml.safe_load(a), "deploy/container/Containerfile")
    compose = yaml.safe_load(open(os.path.join(ROOT, "deploy", "compose", "compose.yaml")))
    for n, s in compose["services"].items():
        from_cmd(s.get("command"), f"deploy/compose/compose.yaml:{n}")
    _, docs = load_k8s()
    for n, doc in docs:
        if doc.get("kind") in ("StatefulSet", "Deployment"):
            _, cmd = container_args(doc["spec"]["template"]["spec"])
            from_cmd(cmd, f"deploy/k8s/{n}")
        if doc.get("kind") == "ConfigMap":
            for key, text in doc.get("data", {}).items():
                if key.endswith(".toml"):
                    add("normbase-server", toml_flags(tomllib.loads(text)), f"deploy/k8s/{n}:{key}")
    return uses


def check_flags(args):
    uses = deploy_flag_uses()
    server = help_flags(args.server_bin)
    if not check(server is not None, "flags", f"cannot run the server binary '{args.server_bin}'"):
        return
    pending = set()
    for flag, where in sorted(uses["normbase-server"].items()):
        if flag in server:
            continue
        if flag in PENDING_SERVER_FLAGS:
            pending.add(flag)
            continue
        fail("flags", f"normbase-server has no flag {flag} (used in {', '.join(sorted(set(where)))})")
    if pending:
        print("PENDING: the job-bus flags " + ", ".join(sorted(pending)) +
              " are used by deploy/ but normbase-server --help does not list them yet")
    worker = help_flags(args.worker_bin)
    if worker is None:
        print("SKIP: normbase-worker is not built; its flags in deploy/ were not checked: " +
              ", ".join(sorted(uses["normbase-worker"])))
        return
    for flag, where in sorted(uses["normbase-worker"].items()):
        check(flag in worker, "flags", f"normbase-worker has no flag {flag} (used in {', '.join(sorted(set(where)))})")


# ---- operator docs ------------------------------------------------------------------------------

def help_table(binary):
    """[(group, flag, spec, description)] from `normbase-server --help`."""
    out = subprocess.run([binary, "--help"], capture_output=True, text=True, timeout=30).stdout
    # Defaults that name the build folder (the worker's plugin folder) differ per build.
    out = out.replace(os.path.dirname(os.path.dirname(os.path.abspath(binary))), "<build>")
    rows, group, last = [], "General", None
    for line in out.splitlines():
        if re.match(r"^\S.*:$", line):
            group = line[:-1] if line[:-1] != "Options" else "General"
            last = None
            continue
        m = re.match(r"^  (?:-\w,)?(--[a-z][\w.-]*)(.*)$", line)
        if m:
            flag, rest = m.group(1), m.group(2)
            if flag in ("--help", "--version") or group == "Subcommands":
                continue
            if rest.startswith("  ") or not rest.strip():  # no type: the description follows
                spec, desc = "", rest.strip()
            else:  # " TYPE[=default]" then, after two or more spaces, the description (or on the next line)
                # CLI11 pads with a single space when the type is long: split by the type's shape.
                m2 = re.match(r"([A-Z][A-Z:]*(?: in \[[^\]]*\])?(?:=\S+)?(?: \.\.\.)?)(?:\s+(.*))?$", rest.strip())
                spec, desc = (m2.group(1), m2.group(2) or "") if m2 else (rest.strip(), "")
            last = [group, flag, spec.strip(), desc.strip()]
            rows.append(last)
        elif last is not None and line.startswith(" " * 10) and line.strip():
            last[3] = (last[3] + " " + line.strip()).strip()
    return rows


def default_of(spec):
    m = re.search(r"=(\S+)(?: \.\.\.)?$", spec)
    return m.group(1) if m else ""


def render_flags(rows):
    lines = []
    group = None
    for g, flag, spec, desc in rows:
        if g != group:
            if lines:
                lines.append("")
            lines += [f"**{g}**", "", "| flag | default | what |", "| --- | --- | --- |"]
            group = g
        typ = re.sub(r"=\S+(?= \.\.\.$|$)", "", spec).strip()
        name = f"`{flag} {typ}`" if typ else f"`{flag}`"
        d = default_of(spec)
        lines.append(f"| {name} | {('`' + d + '`') if d else ''} | {desc.replace('|', '/').replace('<', '&lt;')} |")
    return "\n".join(lines)


def section(text, name):
    m = re.search(rf"<!-- {name}:begin[^>]*-->\n(.*?)<!-- {name}:end -->", text, re.S)
    return m.group(1) if m else None


def table_flags(text):
    """The flag of each table row's first column."""
    return {m.group(1) for m in re.finditer(r"^\| `(--[a-z][\w.-]*)", text or "", re.M)}


def check_operator_docs(args):
    path = os.path.join(ROOT, "docs", "operators.md")
    where = "docs/operators.md"
    if not check(os.access(args.server_bin, os.X_OK), where, f"cannot run '{args.server_bin}'"):
        return
    rows = help_table(args.server_bin)
    text = open(path).read()
    generated = render_flags(rows)
    worker_ok = bool(args.worker_bin) and os.access(args.worker_bin, os.X_OK)
    wrows = [r for r in help_table(args.worker_bin) if r[0] != "Subcommands"] if worker_ok else None
    if args.write:
        text = re.sub(r"(<!-- server-flags:begin[^>]*-->\n).*?(<!-- server-flags:end -->)",
                      lambda m: m.group(1) + generated + "\n" + m.group(2), text, flags=re.S)
        if wrows is not None:
            text = re.sub(r"(<!-- worker-flags:begin[^>]*-->\n).*?(<!-- worker-flags:end -->)",
                          lambda m: m.group(1) + render_flags(wrows) + "\n" + m.group(2), text, flags=re.S)
        open(path, "w").write(text)
        print(f"wrote {len(rows)} server flags" + ("" if wrows is None else f" and {len(wrows)} worker flags") + f" into {where}")
    help_set = {r[1] for r in rows}
    server_doc, bus_doc = section(text, "server-flags"), section(text, "bus-flags")
    if not check(server_doc is not None and bus_doc is not None, where, "the flag reference markers are missing"):
        return
    check(len(help_set) > 20, where, "--help lists suspiciously few flags")
    check(server_doc.strip() == generated.strip(), where,
          "the normbase-server flag table differs from --help (names, defaults or descriptions); "
          "regenerate: /usr/bin/python3 tests/deploy/check_deploy.py operator_docs --write --server-bin BIN")
    documented = table_flags(server_doc) | table_flags(bus_doc)
    for f in sorted(help_set - documented):
        fail(where, f"normbase-server {f} is not documented")
    for f in sorted(table_flags(bus_doc) - help_set):
        if f not in PENDING_SERVER_FLAGS:
            fail(where, f"{f} is documented but normbase-server has no such flag")
    pending = sorted(table_flags(bus_doc) - help_set)
    if pending:
        print("PENDING: documented job-bus flags not in normbase-server --help yet: " + ", ".join(pending))
    for flag in PENDING_SERVER_FLAGS:
        check(flag in table_flags(bus_doc) or flag in help_set, where, f"{flag} (job-bus contract) is not documented")
    for sub in ("backup", "restore", "admin"):
        check(f"normbase-server {sub}" in text, where, f"the {sub} subcommand is not documented")
    wdoc = section(text, "worker-flags")
    if wrows is None:
        print("SKIP: normbase-worker is not built; its documented flags were not checked: " +
              ", ".join(sorted(table_flags(wdoc))))
    else:
        check(wdoc is not None and wdoc.strip() == render_flags(wrows).strip(), where,
              "the normbase-worker flag table differs from its --help; regenerate with operator_docs --write "
              "--server-bin BIN --worker-bin WORKER_BIN")


def main():
    global ROOT
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("check", choices=["systemd", "container", "compose", "k8s", "flags", "operator_docs", "all"])
    p.add_argument("--root", default=os.path.join(os.path.dirname(__file__), "..", ".."))
    p.add_argument("--server-bin", default="")
    p.add_argument("--worker-bin", default="")
    p.add_argument("--write", action="store_true", help="operator_docs: regenerate the server flag table")
    args = p.parse_args()
    ROOT = os.path.abspath(args.root)
    args.server_bin = os.path.abspath(args.server_bin) if args.server_bin else ""
    args.worker_bin = os.path.abspath(args.worker_bin) if args.worker_bin else ""
    checks = {"systemd": check_systemd, "container": check_container, "compose": check_compose,
              "k8s": check_k8s, "flags": check_flags, "operator_docs": check_operator_docs}
    for name, fn in checks.items():
        if args.check in (name, "all"):
            try:
                fn(args)
            except (OSError, KeyError, IndexError, TypeError, ValueError, yaml.YAMLError, tomllib.TOMLDecodeError) as e:
                fail(name, f"{type(e).__name__}: {e}")
    for f in FAILURES:
        print("FAIL " + f)
    if not FAILURES:
        print(f"OK deploy.{args.check}")
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
