#!/usr/bin/env python3
"""Memory after connection bursts: RSS of a service before, during and after N connections.

    benches/connection-burst.py BINARY [connections=5000] [bursts=3] [VAR=value ...]

Starts BINARY (e.g. target/release/helloworld) on a free loopback port with gossip off, then
BURSTS times: opens CONNECTIONS keep-alive connections, each sending one request and reading
its answer, closes them all and waits 3 s. Prints the RSS (VmRSS) at each step. Extra VAR=value
arguments go into the service's environment (GLIBC_TUNABLES=..., GDD_MAX_CONNECTIONS=...).
Raise `ulimit -n` first for more than about 1,000 connections.
"""
import os
import socket
import subprocess
import sys
import time


def main():
    binary = sys.argv[1]
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 5000
    bursts = int(sys.argv[3]) if len(sys.argv) > 3 else 3
    env = {k: v for k, v in os.environ.items() if not k.startswith("GDD_")}
    env.update(GDD_HOST="127.0.0.1", GDD_PORT="0", GDD_SERVICE_DISCOVERY_MODE="none", GDD_LOG_LEVEL="info")
    env.update(dict(a.split("=", 1) for a in sys.argv[4:]))
    proc = subprocess.Popen([binary], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        port = None
        for line in proc.stdout:
            if "listening on http://" in line:
                port = int(line.split("listening on http://", 1)[1].split()[0].rsplit(":", 1)[1])
                break
        if port is None:
            sys.exit("the service did not start")

        def rss():
            with open(f"/proc/{proc.pid}/status") as status:
                return next(int(l.split()[1]) // 1024 for l in status if l.startswith("VmRSS"))

        print(f"idle: {rss()} MiB")
        for burst in range(1, bursts + 1):
            conns = []
            for _ in range(count):
                s = socket.create_connection(("127.0.0.1", port))
                s.sendall(b"GET /user?id=1 HTTP/1.1\r\nHost: bench\r\n\r\n")
                conns.append(s)
            for s in conns:
                s.recv(4096)
            during = rss()
            for s in conns:
                s.close()
            time.sleep(3)
            print(f"burst {burst}: {during} MiB with {count} connections, {rss()} MiB after closing them")
    finally:
        proc.terminate()
        proc.wait()


if __name__ == "__main__":
    main()
