// Checks and times the prefilter's needle search (src/session/prefilter.ts
// findNeedle, a Wu-Manber search) against the plain regex alternation it
// replaced: same leftmost match on real log text and on random mixtures of
// needles, fragments and non-Latin-1 characters; then both timed over a
// 100k-line DEBUG start-up's text in 444-byte chunks.
//   bun bench/prefilter-needles.ts
import { readFileSync } from "node:fs";
import { RULES } from "../src/logparse/patterns.ts";
import { findNeedle } from "../src/session/prefilter.ts";
import { LOG } from "./lib.ts";

const words = [...new Set(RULES.map((r) => r.needle)), "above exception", "Traceback"];
const RE = new RegExp(words.map((n) => n.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join("|"), "g");
const ref = (t: string, f: number) => { RE.lastIndex = f; const m = RE.exec(t); return m ? m.index : Infinity; };

const log = readFileSync(LOG, "utf8");
const samples: string[] = [];
for (let p = 0; p < log.length; p += 300) samples.push(log.slice(p, p + 600));
const alpha = [...words.flatMap((w) => [w, w.slice(0, 5), w.slice(2)]), "█", "é", "\u2588\u2588", "x", " ", "\n", "ea", "ager"];
for (let k = 0; k < 20000; k++) {
  let s = "";
  const m = Math.random() * 12;
  for (let j = 0; j < m; j++) s += alpha[(Math.random() * alpha.length) | 0];
  samples.push(s);
}
let n = 0, bad = 0;
for (const s of samples) for (const f of [0, 1, 3, 7, 50]) {
  if (f > s.length) continue;
  n++;
  if (findNeedle(s, f) !== ref(s, f) && bad++ < 5) console.error("MISMATCH", JSON.stringify(s.slice(0, 100)), f, findNeedle(s, f), ref(s, f));
}
console.log(`checked ${n} searches, ${bad} mismatches`);

// A DEBUG start-up's text: the real log padded with DEBUG noise, as bench/children/emit.py makes it.
const noise = "DEBUG 08-27 10:12:01 [shm_broadcast.py:466] No available shared memory broadcast block found in 60 seconds.\n";
const text = (log + noise.repeat(100_000)).slice(0, 8_800_000);
const chunks: string[] = [];
for (let p = 0; p < text.length; p += 444) chunks.push(text.slice(p, p + 444));
for (const [name, fn] of [["regex", ref], ["findNeedle", findNeedle]] as const) {
  let best = Infinity;
  for (let rep = 0; rep < 5; rep++) {
    const t0 = performance.now();
    for (const c of chunks) for (let f = 0; ; ) { const x = fn(c, f); if (x === Infinity) break; f = x + 1; }
    best = Math.min(best, performance.now() - t0);
  }
  console.log(`${name}: ${best.toFixed(1)} ms over ${(text.length / 1e6).toFixed(1)} MB (best of 5)`);
}
process.exit(bad ? 1 : 0);
