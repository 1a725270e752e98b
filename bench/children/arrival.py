#!/usr/bin/env python3
# Reads stdin as it arrives, stamps each complete line's arrival
# (CLOCK_MONOTONIC), and at EOF prints the latencies (arrival - the write time
# the line carries as t=NS) in ms as JSON.
import json, os, sys, time

def main():
    lat = []
    buf = b""
    while True:
        b = os.read(0, 1 << 16)
        now = time.monotonic_ns()
        if not b:
            break
        buf += b
        *lines, buf = buf.split(b"\n")
        for l in lines:
            i = l.find(b" t=")
            if i >= 0:
                lat.append((now - int(l[i + 3:].split(b" ", 1)[0])) / 1e6)
    json.dump(lat, sys.stdout)

main()
