#!/usr/bin/env python3
"""Stored -> delivered latency of alerts in local mode, for ops/bench.

Usage: alerts-latency.py WORK_DIR MONITORING_BIN
Starts a loopback webhook receiver and `monitoring local --alerts`, appends
200 distinct error lines over about 10 s, and prints "COUNT P99_MS": the
99th percentile of (receipt time - the event's store time, `updated_at`).
"""
import http.server, json, os, socket, subprocess, sys, threading, time
from datetime import datetime

work, binary = sys.argv[1], sys.argv[2]
N = 200
latencies = []

class Receiver(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["content-length"])))
        now = time.time()
        if body["type"] == "event.opened":
            stored = datetime.fromisoformat(body["data"]["event"]["updated_at"].replace("Z", "+00:00"))
            latencies.append((now - stored.timestamp()) * 1000)
        self.send_response(200)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass

def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    return s.getsockname()[1]

receiver = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), Receiver)
threading.Thread(target=receiver.serve_forever, daemon=True).start()
alerts = os.path.join(work, "alerts.json")
with open(alerts, "w") as f:
    json.dump({"channels": [{"name": "bench", "kind": "webhook",
                             "url": f"http://127.0.0.1:{receiver.server_address[1]}/hook",
                             "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "min_severity": "low"}],
               "storm": {"max_per_window": 100000, "window_seconds": 60}}, f)
log = os.path.join(work, "logs", "app", "app.log")
open(log, "w").close()
server = subprocess.Popen([binary, "local", "--listen", f"127.0.0.1:{free_port()}", "--interval", "200ms",
                           "--data-dir", os.path.join(work, "data"), "--logs", os.path.join(work, "logs"),
                           "--alerts", alerts], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
try:
    time.sleep(1)
    letters = "ghijklmnopqrstuvwxyz"
    for i in range(N):
        word = letters[i % 20] + letters[(i // 20) % 20] + letters[(i // 400) % 20]
        with open(log, "a") as f:
            f.write(f"2026-11-25 10:00:00,000 ERROR widget {word} exploded\n")
        time.sleep(0.05)
    deadline = time.time() + 30
    while len(latencies) < N and time.time() < deadline:
        time.sleep(0.1)
finally:
    server.terminate()
    server.wait()
if len(latencies) < N:
    sys.exit(f"alerts-latency: only {len(latencies)} of {N} alerts arrived")
latencies.sort()
print(N, round(latencies[int(0.99 * (N - 1))], 1))
