#!/usr/bin/python3
"""A Normbase worker in Python: speaks normbase.bus.v1 (docs/worker-protocol.md)
with Debian's python3-zmq and python3-protobuf, and runs one check plugin,
"title-style", which flags proposed agreement titles that shout (ALL CAPS) or
end with a full stop.

    PYTHONPATH=<build>/python /usr/bin/python3 worker.py --connect tcp://127.0.0.1:7700

The generated module normbase/bus/v1/worker_pb2.py comes from
proto/normbase/bus/v1/worker.proto (the build makes it under <build>/python;
or run: protoc --python_out=OUT -I proto proto/normbase/bus/v1/worker.proto).
"""
import argparse
import json
import os
import signal
import socket
import time

import zmq
from normbase.bus.v1 import worker_pb2 as pb

PROTOCOL = 1
PLUGIN = "title-style"


def title_style(job_input):
    """The plugin: a check's output document (docs/plugins.md)."""
    record = (job_input.get("proposal") or {}).get("record") or {}
    title = record.get("title", "")
    findings = []
    letters = [c for c in title if c.isalpha()]
    if letters and all(c.isupper() for c in letters) and len(letters) > 3:
        findings.append({"severity": "error", "field": "title",
                         "message": "the title is in capitals; write it as the agreement does"})
    if title.endswith("."):
        findings.append({"severity": "warning", "field": "title",
                         "message": "a title does not end with a full stop"})
    errors = [f for f in findings if f["severity"] == "error"]
    return {"status": "failed" if errors else "passed",
            "summary": "%d finding%s" % (len(findings), "" if len(findings) == 1 else "s"),
            "findings": findings}


def envelope(**body):
    env = pb.Envelope(protocol=PROTOCOL, **body)
    return env.SerializeToString()


class Worker:
    def __init__(self, args):
        self.args = args
        self.id = args.id or "py-%s-%d" % (socket.gethostname(), os.getpid())
        self.ctx = zmq.Context()
        self.heartbeat_ms, self.expiry_ms = 1000, 3000
        self.stop = False
        self.connect()

    def connect(self):
        self.sock = self.ctx.socket(zmq.DEALER)
        self.sock.setsockopt(zmq.LINGER, 1000)
        self.sock.setsockopt_string(zmq.ROUTING_ID, self.id)
        self.sock.connect(self.args.connect)
        self.last_heard = self.last_sent = time.monotonic()
        self.hello()

    def send(self, data):
        self.sock.send(data)
        self.last_sent = time.monotonic()

    def hello(self):
        plugin = pb.PluginInfo(name=PLUGIN, version="1.0.0", kind="check", abi_version=1,
                               description="Titles are written as the agreement writes them")
        self.send(envelope(hello=pb.Hello(worker_id=self.id, plugins=[plugin], capacity=1,
                                          hostname=socket.gethostname(), pid=os.getpid(),
                                          software="python-example 1.0")))

    def run_job(self, job):
        started = time.monotonic()
        try:
            output = json.dumps(title_style(json.loads(job.input)))
            result = pb.Result(job_id=job.job_id, attempt=job.attempt, status=pb.Result.OK,
                               output=output.encode())
        except (ValueError, KeyError, TypeError) as e:
            result = pb.Result(job_id=job.job_id, attempt=job.attempt, status=pb.Result.BAD_INPUT,
                               message=str(e))
        result.duration_ms = int((time.monotonic() - started) * 1000)
        self.send(envelope(result=result))

    def serve(self):
        poller = zmq.Poller()
        poller.register(self.sock, zmq.POLLIN)
        while not self.stop:
            if poller.poll(100):
                self.last_heard = time.monotonic()
                env = pb.Envelope()
                try:
                    env.ParseFromString(self.sock.recv())
                except Exception:  # garbage from the core: drop it
                    continue
                kind = env.WhichOneof("body")
                if env.protocol != PROTOCOL:
                    continue
                if kind == "welcome":
                    self.heartbeat_ms = env.welcome.heartbeat_interval_ms
                    self.expiry_ms = env.welcome.heartbeat_expiry_ms
                elif kind == "job":
                    if env.job.plugin == PLUGIN:
                        self.run_job(env.job)
                    else:
                        self.send(envelope(result=pb.Result(job_id=env.job.job_id, attempt=env.job.attempt,
                                                            status=pb.Result.REFUSED, message="unknown plugin")))
                elif kind == "error" and env.error.code == pb.Error.UNKNOWN_WORKER:
                    self.hello()
            now = time.monotonic()
            if (now - self.last_sent) * 1000 >= self.heartbeat_ms:
                self.send(envelope(heartbeat=pb.Heartbeat()))
            if (now - self.last_heard) * 1000 > self.expiry_ms:
                poller.unregister(self.sock)
                self.sock.close(0)
                self.connect()
                poller.register(self.sock, zmq.POLLIN)
        self.send(envelope(goodbye=pb.Goodbye(reason="stopping")))
        self.sock.close()
        self.ctx.term()


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--connect", default="tcp://127.0.0.1:7700")
    p.add_argument("--id", default="")
    w = Worker(p.parse_args())

    def stop(*_):
        w.stop = True
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    w.serve()


if __name__ == "__main__":
    main()
