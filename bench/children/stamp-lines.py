#!/usr/bin/env python3
# Writes lines that carry their own write time (CLOCK_MONOTONIC, ns) for
# bench/passthrough-latency.ts: COUNT lines SPACING_MS apart (sleeping), then a
# burst phase of BURST lines BURST_SPACING_MS apart (spinning), one write(2) each.
import os, sys, time

def main():
    count, spacing, burst, burst_spacing = int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
    fd = sys.stdout.fileno()
    pad = b"x" * 60
    for i in range(count):
        time.sleep(spacing / 1000)
        os.write(fd, b"INFO 08-27 10:12:00 [stamp.py:1] t=%d %s\n" % (time.monotonic_ns(), pad))
    due = time.monotonic_ns()
    for i in range(burst):
        due += int(burst_spacing * 1e6)
        while time.monotonic_ns() < due:
            pass
        os.write(fd, b"DEBUG 08-27 10:12:00 [stamp.py:2] t=%d %s\n" % (time.monotonic_ns(), pad))

main()
