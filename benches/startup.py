#!/usr/bin/env python3
"""Time from process start to GET /go-doudou/ready answering 200, median of N runs.

    benches/startup.py BINARY [runs=10]
"""
import os
import socket
import statistics
import subprocess
import sys
import time


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ready(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.05) as s:
            s.sendall(b"GET /go-doudou/ready HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            return s.recv(16).startswith(b"HTTP/1.1 200")
    except OSError:
        return False


def once(binary):
    port = free_port()
    env = dict(os.environ, GDD_PORT=str(port), GDD_HOST="127.0.0.1", GDD_MEM_PORT="0",
               GDD_MEM_HOST="127.0.0.1", GDD_LOG_LEVEL="warn")
    start = time.monotonic()
    proc = subprocess.Popen([binary], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while not ready(port):
            if time.monotonic() - start > 10:
                raise SystemExit("not ready within 10 s")
            time.sleep(0.0005)
        return (time.monotonic() - start) * 1000
    finally:
        proc.terminate()
        proc.wait()


def main():
    binary = sys.argv[1]
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 10
    times = [once(binary) for _ in range(runs)]
    print(f"start to ready: median {statistics.median(times):.1f} ms, max {max(times):.1f} ms over {runs} runs")


if __name__ == "__main__":
    main()
