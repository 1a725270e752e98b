// Start-up latency: time from `startup-tracer` being executed to the child
// being executed (exec to exec), against executing the child directly and
// against a minimal compiled Bun wrapper (Bun.spawn + await exited) built here,
// which shows the floor any compiled Bun wrapper pays.
//
// The child is a tiny C program (built here with cc; a /bin/sh script where
// no compiler exists) that writes its CLOCK_MONOTONIC time at entry to a file;
// the benchmark stamps CLOCK_MONOTONIC right before spawning. Each round runs
// the three cases in turn, so load changes hit them alike.
// Target: median(tracer) - median(direct) < 15 ms.
//
//   make build && bun bench/startup-latency.ts [--runs 25]
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { arg, BIN, fmt, median, monoMs, percentile, requireBinary } from "./lib.ts";

requireBinary();
const runs = Math.max(20, arg("runs", 25));
const dir = mkdtempSync(join(tmpdir(), "st-lat-"));
const stampFile = join(dir, "stamp.out");

// The child: CLOCK_MONOTONIC at main(), in ns, to argv[1].
let child: string[];
writeFileSync(join(dir, "stamp.c"), `#include <stdio.h>
#include <time.h>
int main(int c, char **v) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t);
  FILE *f = fopen(v[1], "w"); if (!f) return 1; fprintf(f, "%lld\\n", (long long)t.tv_sec * 1000000000LL + t.tv_nsec); fclose(f); return 0; }
`);
const cc = ["-static", ""].map((s) => Bun.spawnSync(["cc", "-O2", ...(s ? [s] : []), "-o", join(dir, "stamp"), join(dir, "stamp.c")], { stderr: "ignore" }))
  .find((r) => r.exitCode === 0);
let childKind = "static C program";
if (cc && existsSync(join(dir, "stamp"))) child = [join(dir, "stamp"), stampFile];
else {
  // No compiler: python3 stamps after its own start-up, the same in every case, so differences still hold.
  childKind = "python3 script (no C compiler)";
  child = ["python3", "-S", "-c", "import sys,time; open(sys.argv[1],'w').write(str(time.monotonic_ns()))", stampFile];
}

// The floor: the least a compiled Bun program can do as a wrapper.
writeFileSync(join(dir, "w.ts"), `const p = Bun.spawn(process.argv.slice(2), { stdio: ["inherit", "inherit", "inherit"] });\nprocess.exitCode = await p.exited;\n`);
const built = Bun.spawnSync([process.execPath, "build", "--compile", "--minify", join(dir, "w.ts"), "--outfile", join(dir, "minwrap")], { stdout: "ignore", stderr: "inherit" });
const haveFloor = built.exitCode === 0;

function readStamp(): number {
  const t = readFileSync(stampFile, "utf8").trim();
  rmSync(stampFile, { force: true });
  return Number(t) / 1e6;
}

async function once(argv: string[]): Promise<number> {
  const env = { ...process.env, STARTUP_TRACER_STATE_DIR: join(dir, "state"), OTEL_TRACES_EXPORTER: "none", NO_COLOR: "1" } as Record<string, string>;
  const t0 = monoMs();
  const p = Bun.spawn(argv, { stdin: "ignore", stdout: "ignore", stderr: "ignore", env });
  await p.exited;
  return readStamp() - t0;
}

const cases: Record<string, string[]> = {
  direct: child,
  ...(haveFloor ? { "minimal Bun wrapper": [join(dir, "minwrap"), ...child] } : {}),
  tracer: [BIN, "--quiet", "--no-history", "--", ...child],
};
const samples: Record<string, number[]> = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
for (const argv of Object.values(cases)) await once(argv); // warm the page cache
for (let i = 0; i < runs; i++) for (const [k, argv] of Object.entries(cases)) samples[k].push(await once(argv));
rmSync(dir, { recursive: true, force: true });

for (const [k, xs] of Object.entries(samples)) {
  console.error(`  ${k.padEnd(20)} median ${fmt(median(xs), 2)} ms, p90 ${fmt(percentile(xs, 90), 2)} ms, min ${fmt(Math.min(...xs), 2)} ms`);
}
const d = median(samples.direct);
const result = {
  runs,
  child: childKind,
  direct_median_ms: Number(fmt(d, 2)),
  tracer_median_ms: Number(fmt(median(samples.tracer), 2)),
  tracer_p90_ms: Number(fmt(percentile(samples.tracer, 90), 2)),
  tracer_added_median_ms: Number(fmt(median(samples.tracer) - d, 2)),
  tracer_added_p90_ms: Number(fmt(percentile(samples.tracer, 90) - d, 2)),
  floor_added_median_ms: haveFloor ? Number(fmt(median(samples["minimal Bun wrapper"]) - d, 2)) : null,
  target_added_ms: 15,
};
console.log(JSON.stringify(result));
