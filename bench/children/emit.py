#!/usr/bin/env python3
# A CPU-bound stand-in for a vLLM start-up, for the overhead benchmarks.
# Prints the records of a real vLLM log (so the phase recogniser is busy the
# whole time and readiness comes at the very end) padded with generated lines
# at LEVEL up to LINES lines in all, evenly paced over SECONDS while spinning
# the CPU between lines, one write(2) per line as Python's logging does.
# At exit it writes its own CPU time (getrusage RUSAGE_SELF + RUSAGE_CHILDREN, seconds) as JSON
# to $EMIT_USAGE_FILE when set, so a harness can subtract it from the rusage of
# a wrapper around it and get the wrapper's own CPU.
import json, os, resource, sys, time

def main():
    log, lines, seconds, level = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
    with open(log, "rb") as f:
        real = [l if l.endswith(b"\n") else l + b"\n" for l in f.read().split(b"\n") if l.strip()]
    pad = max(0, lines - len(real))
    per = pad // max(1, len(real) - 1) if len(real) > 1 else pad
    msgs = [
        b"[shm_broadcast.py:466] No available shared memory broadcast block found in 60 seconds.",
        b"[utils.py:312] Found nccl from library libnccl.so.2",
        b"[core.py:620] EngineCore waiting for work. step=%d",
        b"[custom_all_reduce.py:112] Registering %d cuda graph addresses",
        b"[decorators.py:204] Start compiling function <code object forward at 0x7f%x>",
    ]
    out = []
    n = 0
    for i, r in enumerate(real):
        out.append(r)
        if i < len(real) - 1:
            k = per + (1 if i < pad - per * (len(real) - 1) else 0)
            for _ in range(k):
                m = msgs[n % len(msgs)]
                if b"%" in m:
                    m = m % (n,)
                out.append(b"%s 08-27 10:12:%02d " % (level.encode(), n % 60) + m + b"\n")
                n += 1
    total = len(out)
    step = seconds / total
    t0 = time.perf_counter()
    fd = sys.stdout.fileno()
    x = 0
    for i, l in enumerate(out):
        due = t0 + (i + 1) * step
        while time.perf_counter() < due:
            x += 1  # spin: a CPU-bound start-up
        os.write(fd, l)
    path = os.environ.get("EMIT_USAGE_FILE")
    if path:
        # Self plus reaped children (none when started directly; a launcher's helpers otherwise).
        ru = resource.getrusage(resource.RUSAGE_SELF)
        rc = resource.getrusage(resource.RUSAGE_CHILDREN)
        with open(path, "w") as f:
            json.dump({"user": ru.ru_utime + rc.ru_utime, "system": ru.ru_stime + rc.ru_stime, "lines": total}, f)

main()
