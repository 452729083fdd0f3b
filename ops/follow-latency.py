#!/usr/bin/env python3
"""Line appended -> event visible in GET /events, `monitoring local --follow`, for ops/bench.

Usage: follow-latency.py WORK_DIR MONITORING_BIN
Starts `monitoring local --follow` (interval 1 h, so only following can
publish), then 100 times: appends one new error line to a log file and polls
GET /events every 10 ms until an event with that line's title is there.
Prints "COUNT P99_MS P50_MS": percentiles of (visible - appended).
"""
import json, os, socket, subprocess, sys, time, urllib.request

work, binary = sys.argv[1], sys.argv[2]
N = 100

def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    return s.getsockname()[1]

def titles(base):
    with urllib.request.urlopen(f"{base}/events?source=monitoring.agent.logs&limit=200", timeout=5) as r:
        return {e["title"] for e in json.load(r)["items"]}

log = os.path.join(work, "logs", "app", "app.log")
os.makedirs(os.path.dirname(log), exist_ok=True)
open(log, "w").close()
port = free_port()
base = f"http://127.0.0.1:{port}"
server = subprocess.Popen([binary, "local", "--listen", f"127.0.0.1:{port}", "--follow", "--interval", "1h",
                           "--data-dir", os.path.join(work, "data"), "--logs", os.path.join(work, "logs")],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
latencies = []
try:
    deadline = time.time() + 30
    while True:
        try:
            titles(base)
            break
        except OSError:
            if time.time() > deadline:
                sys.exit("follow-latency: the API did not answer")
            time.sleep(0.1)
    time.sleep(1)
    letters = "ghijklmnopqrstuvwxyz"
    for i in range(N):
        word = letters[i % 20] + letters[(i // 20) % 20]
        message = f"gadget {word} melted"
        appended = time.time()
        with open(log, "a") as f:
            f.write(f"2026-11-25 10:00:00,000 ERROR {message}\n")
        while not any(message in t for t in titles(base)):
            if time.time() - appended > 10:
                sys.exit(f"follow-latency: {message!r} not visible after 10 s")
            time.sleep(0.01)
        latencies.append((time.time() - appended) * 1000)
finally:
    server.terminate()
    server.wait()
latencies.sort()
p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
print(len(latencies), round(p99), round(latencies[len(latencies) // 2]))
