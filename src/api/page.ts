// The live start-up page served at GET /: one self-contained HTML document
// (inline CSS and JS, no external assets) that polls ./status every second and
// draws the start-up as a waterfall: one bar per phase (sub-steps indented),
// the actual duration as a solid bar over the predicted duration as a dashed
// ghost bar, the running phase growing, ETA, outcome, slow phases and a
// per-core CPU strip. Follows prefers-color-scheme.
//
// All snapshot text reaches the DOM through textContent / attributes only, never
// as HTML. The Content-Security-Policy (PAGE_CSP) allows exactly this script and
// style (by hash) and same-origin fetches, nothing else.

import { createHash } from "node:crypto";

const STYLE = `
:root {
  color-scheme: light dark;
  --bg: #f7f8fa; --fg: #1d2330; --muted: #5d6679; --panel: #ffffff; --line: #dfe3ea;
  --ok: #2f7de1; --sub: #6aa6f0; --run: #e0a100; --err: #d93a3a; --slow: #e5533d;
  --ghost: #7b8496; --ready: #1f9d55; --track: #eef1f5; --cpu: #2f7de1;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #12151c; --fg: #e6e9ef; --muted: #9aa3b5; --panel: #1a1f29; --line: #2c3342;
    --ok: #4f95ee; --sub: #3d6fae; --run: #f0b429; --err: #f05252; --slow: #ff6b55;
    --ghost: #8d96a8; --ready: #3ccf7d; --track: #222836; --cpu: #4f95ee;
  }
}
* { box-sizing: border-box; }
body { margin: 0; padding: 20px 24px 32px; background: var(--bg); color: var(--fg);
  font: 14px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; }
h1 { font-size: 20px; margin: 0 0 4px; font-weight: 600; }
h1 .model { font-weight: 400; color: var(--muted); margin-left: 8px; word-break: break-all; }
h2 { font-size: 13px; text-transform: uppercase; letter-spacing: .06em; color: var(--muted); margin: 0 0 8px; font-weight: 600; }
section { background: var(--panel); border: 1px solid var(--line); border-radius: 8px; padding: 14px 16px; margin-top: 14px; }
.sub-title { color: var(--muted); font-size: 12px; }
.badge { display: inline-block; padding: 1px 10px; border-radius: 999px; font-weight: 600; font-size: 12px;
  text-transform: uppercase; letter-spacing: .05em; color: #fff; background: var(--ghost); vertical-align: middle; }
.badge[data-outcome="running"] { background: var(--run); color: #1d1600; }
.badge[data-outcome="ready"] { background: var(--ready); }
.badge[data-outcome="failed"], .badge[data-outcome="exited"] { background: var(--err); }
.stats { display: flex; flex-wrap: wrap; gap: 8px 28px; margin: 12px 0 0; }
.stats div { min-width: 110px; }
.stats dt { color: var(--muted); font-size: 12px; }
.stats dd { margin: 0; font-size: 20px; font-variant-numeric: tabular-nums; font-weight: 600; }
#cores { display: flex; gap: 2px; height: 32px; align-items: stretch; }
.core { flex: 1 1 0; min-width: 3px; max-width: 40px; background: var(--track); border-radius: 2px; position: relative; overflow: hidden; }
.core i { position: absolute; left: 0; right: 0; bottom: 0; background: var(--cpu); }
#cpu-empty, #empty { color: var(--muted); margin: 4px 0; }
.wf { position: relative; }
.axis, .row { display: grid; grid-template-columns: 220px 1fr 150px; align-items: center; column-gap: 12px; }
.axis { height: 18px; color: var(--muted); font-size: 11px; }
.ticks { position: relative; height: 100%; }
.ticks span { position: absolute; top: 0; transform: translateX(-50%); white-space: nowrap; font-variant-numeric: tabular-nums; }
.ticks span.first { transform: none; }
.row { height: 26px; }
.row .name { white-space: nowrap; overflow: hidden; text-overflow: ellipsis; font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 13px; }
.row.sub .name { padding-left: 20px; color: var(--muted); }
.row.sub .name::before { content: "\\2514\\00a0"; color: var(--line); }
.row .tag { font-family: system-ui, sans-serif; font-size: 10px; margin-left: 6px; padding: 0 5px; border-radius: 3px; border: 1px solid var(--line); color: var(--muted); }
.row .tag.slow { border-color: var(--slow); color: var(--slow); font-weight: 600; }
.track { position: relative; height: 100%; background: linear-gradient(var(--track), var(--track)) center / 100% 1px no-repeat; }
.ghost, .bar, .allow { position: absolute; top: 5px; bottom: 5px; border-radius: 3px; }
.row.sub .bar { top: 8px; bottom: 8px; }
/* The ghost (predicted) is drawn over the actual bar, a little taller, so its end
   stays visible when the phase ran longer than predicted. */
.ghost { z-index: 2; top: 2px; bottom: 2px; border: 1.5px dashed var(--ghost); background: transparent; border-radius: 4px; }
.row.sub .ghost { top: 5px; bottom: 5px; }
.bar { z-index: 1; }
.allow { z-index: 3; }
.bar { background: var(--ok); min-width: 2px; }
.row.sub .bar { background: var(--sub); }
.row[data-status="running"] .bar { background: var(--run);
  background-image: repeating-linear-gradient(45deg, rgba(255,255,255,.25) 0 6px, transparent 6px 12px);
  background-size: 17px 17px; animation: stripes 1s linear infinite; }
.row[data-status="error"] .bar { background: var(--err); }
.row.slow .bar { box-shadow: inset 0 0 0 2px var(--slow); }
.allow { width: 0; border-left: 2px solid var(--slow); top: 2px; bottom: 2px; border-radius: 0; }
@keyframes stripes { to { background-position: 17px 0; } }
@media (prefers-reduced-motion: reduce) { .row[data-status="running"] .bar { animation: none; } }
.row .dur { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; font-size: 13px; }
.row .dur .pred { color: var(--muted); font-size: 12px; }
.overlay { position: absolute; top: 0; bottom: 0; left: calc(220px + 12px); right: calc(150px + 12px); pointer-events: none; }
.now, .eta { position: absolute; top: 0; bottom: 0; width: 0; }
.now { border-left: 1.5px solid var(--fg); opacity: .55; }
.eta { border-left: 1.5px dashed var(--ready); }
.legend { display: flex; gap: 18px; flex-wrap: wrap; color: var(--muted); font-size: 12px; margin-top: 10px; }
.legend span::before { content: ""; display: inline-block; width: 18px; height: 10px; margin-right: 6px; vertical-align: -1px; border-radius: 2px; }
.legend .l-act::before { background: var(--ok); }
.legend .l-run::before { background: var(--run); }
.legend .l-pred::before { border: 1.5px dashed var(--ghost); }
.legend .l-slow::before { box-shadow: inset 0 0 0 2px var(--slow); background: var(--ok); }
.legend .l-eta::before { width: 0; border-left: 2px dashed var(--ready); }
#slow { margin: 0; padding-left: 18px; }
#slow li.resolved { color: var(--muted); }
#error { color: var(--err); font-weight: 600; margin-top: 8px; word-break: break-word; }
footer { margin-top: 12px; color: var(--muted); font-size: 12px; }
footer[data-state="lost"] { color: var(--err); font-weight: 600; }
`;

// Plain JS (no template literals inside, so it can live in this TS template).
const SCRIPT = `
(function () {
  "use strict";
  var POLL_MS = 1000;
  var snap = null, receivedAt = 0, rows = new Map();
  var $ = function (id) { return document.getElementById(id); };

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function fmt(s) {
    if (s === null || s === undefined || !isFinite(s)) return "\\u2013";
    if (s < 0) s = 0;
    if (s < 10) return s.toFixed(1) + " s";
    if (s < 60) return Math.round(s) + " s";
    var m = Math.floor(s / 60), r = Math.round(s - m * 60);
    if (r === 60) { m += 1; r = 0; }
    if (m < 60) return m + "m " + (r < 10 ? "0" : "") + r + "s";
    var h = Math.floor(m / 60); m -= h * 60;
    return h + "h " + (m < 10 ? "0" : "") + m + "m";
  }
  function tick(s) {
    if (s === 0) return "0";
    if (s < 60) return s + "s";
    if (s % 60 === 0) return (s / 60) + "m";
    return fmt(s);
  }
  function liveElapsed() {
    if (!snap) return 0;
    if (snap.outcome !== "running") return snap.elapsed_s;
    // Grow between polls, but never run ahead of the tracer by more than 2 s.
    return snap.elapsed_s + Math.min(2, Math.max(0, (performance.now() - receivedAt) / 1000));
  }
  function phaseDur(p, now) {
    if (p.duration_s !== null && p.duration_s !== undefined) return p.duration_s;
    return Math.max(0, now - p.start_s);
  }
  function slowFor(name) {
    var out = null;
    (snap.slow || []).forEach(function (s) { if (s.phase === name) out = s; });
    return out;
  }
  function scaleMax(now) {
    var m = Math.max(1, now);
    if (snap.predicted_total_s) m = Math.max(m, snap.predicted_total_s);
    if (snap.outcome === "running" && snap.eta_s !== null) m = Math.max(m, now + snap.eta_s);
    snap.phases.forEach(function (p) {
      m = Math.max(m, p.start_s + phaseDur(p, now), p.start_s + (p.predicted_s || 0));
    });
    return m * 1.04;
  }
  function niceStep(max) {
    var steps = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200];
    for (var i = 0; i < steps.length; i++) if (max / steps[i] <= 8) return steps[i];
    return 14400;
  }
  function pct(v, max) { return (Math.max(0, v) / max * 100).toFixed(3) + "%"; }
  function attrSummary(p) {
    var a = p.attributes || {}, out = [];
    Object.keys(a).forEach(function (k) {
      var v = a[k];
      out.push(k.replace(/^vllm\\.startup\\./, "") + " = " + (Array.isArray(v) ? v.join(", ") : String(v)));
    });
    return out.join("\\n");
  }
  function boundBy(p) {
    var a = p.attributes || {};
    var v = a["vllm.startup.phase.bound_by"] || a["bound_by"];
    return typeof v === "string" ? v : null;
  }

  function ensureRow(key, p) {
    var r = rows.get(key);
    if (r) return r;
    var row = el("div", "row" + (p.parent ? " sub" : ""));
    row.setAttribute("role", "listitem");
    var name = el("div", "name");
    var label = el("span", "label", p.name);
    name.appendChild(label);
    var tags = el("span", "tags");
    name.appendChild(tags);
    var track = el("div", "track");
    var ghost = el("div", "ghost");
    var bar = el("div", "bar");
    var allow = el("div", "allow");
    track.appendChild(ghost); track.appendChild(bar); track.appendChild(allow);
    var dur = el("div", "dur");
    var act = el("span", "act"), pred = el("span", "pred");
    dur.appendChild(act); dur.appendChild(pred);
    row.appendChild(name); row.appendChild(track); row.appendChild(dur);
    r = { row: row, tags: tags, ghost: ghost, bar: bar, allow: allow, act: act, pred: pred, name: name };
    rows.set(key, r);
    return r;
  }

  function renderWaterfall() {
    var wf = $("rows");
    var now = liveElapsed();
    var max = scaleMax(now);
    var seen = new Set();
    snap.phases.forEach(function (p, i) {
      var key = i + "\\u0000" + p.name;
      seen.add(key);
      var r = ensureRow(key, p);
      if (r.row.parentNode !== wf || wf.children[i] !== r.row) wf.insertBefore(r.row, wf.children[i] || null);
      r.row.dataset.phase = p.name;
      r.row.dataset.status = p.status;
      r.row.classList.toggle("sub", !!p.parent);
      var d = phaseDur(p, now);
      r.bar.style.left = pct(p.start_s, max);
      r.bar.style.width = pct(d, max);
      if (p.predicted_s !== null && p.predicted_s !== undefined) {
        r.ghost.style.display = "";
        r.ghost.style.left = pct(p.start_s, max);
        r.ghost.style.width = pct(p.predicted_s, max);
      } else r.ghost.style.display = "none";
      var s = slowFor(p.name);
      r.row.classList.toggle("slow", !!s);
      if (s) { r.allow.style.display = ""; r.allow.style.left = pct(p.start_s + s.allowance_s, max); }
      else r.allow.style.display = "none";
      r.tags.textContent = "";
      var bb = boundBy(p);
      if (bb) r.tags.appendChild(el("span", "tag", bb));
      if (s) r.tags.appendChild(el("span", "tag slow", "slow"));
      if (p.status === "error") r.tags.appendChild(el("span", "tag slow", "error"));
      r.act.textContent = fmt(d);
      r.pred.textContent = (p.predicted_s !== null && p.predicted_s !== undefined) ? " / " + fmt(p.predicted_s) : "";
      var title = p.name + (p.parent ? " (in " + p.parent + ")" : "") + "\\nstart " + fmt(p.start_s) + ", " +
        (p.status === "running" ? "running for " : "took ") + fmt(d) +
        (p.predicted_s != null ? ", predicted " + fmt(p.predicted_s) : "") +
        (s ? "\\nslow: allowance " + fmt(s.allowance_s) + " (" + s.basis + ")" : "") +
        (p.error ? "\\nerror: " + p.error : "");
      var attrs = attrSummary(p);
      r.row.title = attrs ? title + "\\n" + attrs : title;
    });
    rows.forEach(function (r, key) {
      if (!seen.has(key)) { r.row.remove(); rows.delete(key); }
    });
    $("empty").hidden = snap.phases.length > 0;

    var ticks = $("ticks");
    ticks.textContent = "";
    var step = niceStep(max);
    for (var t = 0; t <= max; t += step) {
      var sp = el("span", t === 0 ? "first" : "", tick(t));
      sp.style.left = pct(t, max);
      ticks.appendChild(sp);
    }
    $("now").style.left = pct(now, max);
    var eta = $("eta-line");
    if (snap.outcome === "running" && snap.eta_s !== null) { eta.hidden = false; eta.style.left = pct(now + snap.eta_s, max); }
    else eta.hidden = true;
  }

  function renderHeader() {
    var now = liveElapsed();
    $("model").textContent = snap.model || "model not known yet";
    var sub = [];
    if (snap.engine_version) sub.push("vLLM " + snap.engine_version);
    if (snap.host) sub.push("host " + snap.host);
    if (snap.trace_id) sub.push("trace " + snap.trace_id);
    $("meta").textContent = sub.join(" \\u00b7 ");
    var o = $("outcome");
    o.textContent = snap.outcome;
    o.dataset.outcome = snap.outcome;
    $("elapsed").textContent = fmt(snap.ready_s !== null ? snap.ready_s : now);
    $("elapsed-label").textContent = snap.ready_s !== null ? "Ready after" : "Elapsed";
    var eta = snap.outcome === "running" && snap.eta_s !== null ? Math.max(0, snap.eta_s - (now - snap.elapsed_s)) : null;
    $("eta").textContent = snap.outcome === "running" ? fmt(eta) : (snap.outcome === "ready" ? "ready" : "\\u2013");
    $("predicted").textContent = fmt(snap.predicted_total_s);
    var cur = snap.current_phase;
    $("current").textContent = cur ? cur + (snap.current_phase_elapsed_s !== null ? " (" + fmt(snap.current_phase_elapsed_s + (now - snap.elapsed_s)) + ")" : "") : "\\u2013";
    var err = null;
    snap.phases.forEach(function (p) { if (p.error) err = p.name + ": " + p.error; });
    $("error").hidden = !err;
    $("error").textContent = err || "";
    document.title = (snap.outcome === "running" ? (cur || "starting") + " \\u00b7 " + fmt(now) : snap.outcome) +
      " \\u2013 vLLM start-up";
  }

  function renderCpu() {
    var cores = snap.cpu_cores || [];
    var box = $("cores");
    while (box.children.length > cores.length) box.lastChild.remove();
    while (box.children.length < cores.length) { var c = el("div", "core"); c.appendChild(el("i")); box.appendChild(c); }
    var sum = 0;
    cores.forEach(function (u, i) {
      u = Math.max(0, Math.min(1, Number(u) || 0));
      sum += u;
      var c = box.children[i];
      c.firstChild.style.height = (u * 100).toFixed(1) + "%";
      c.title = "core " + i + ": " + Math.round(u * 100) + "%";
    });
    $("cpu-empty").hidden = cores.length > 0;
    $("cpu-avg").textContent = cores.length ? cores.length + " cores, " + Math.round(sum / cores.length * 100) + "% average" : "";
  }

  function renderSlow() {
    var list = $("slow");
    list.textContent = "";
    (snap.slow || []).forEach(function (s) {
      var li = el("li", s.resolved ? "resolved" : "", s.phase + " exceeded " + fmt(s.allowance_s) + " (" + s.basis +
        ") at " + fmt(s.detected_at_s) + (s.resolved ? ", finished" : ", still running"));
      list.appendChild(li);
    });
    $("slow-section").hidden = !(snap.slow && snap.slow.length);
  }

  // What to try next (src/advice/): shown once the start-up has ended, biggest saving first.
  function renderAdvice() {
    var list = $("advice");
    list.textContent = "";
    (snap.advice || []).forEach(function (a) {
      var li = el("li", "", "");
      li.appendChild(el("strong", "", a.lever + " on " + a.phase + ": save ~" + fmt(a.saving_s)));
      li.appendChild(el("div", "sub-title", a.evidence));
      li.appendChild(el("div", "", "\u2192 " + a.action));
      list.appendChild(li);
    });
    $("advice-section").hidden = !(snap.advice && snap.advice.length);
  }

  function render() {
    if (!snap) return;
    renderHeader(); renderWaterfall(); renderCpu(); renderSlow(); renderAdvice();
  }

  function setConn(state, text) { var f = $("conn"); f.dataset.state = state; f.textContent = text; }

  function poll() {
    var ctrl = new AbortController();
    var timer = setTimeout(function () { ctrl.abort(); }, 3000);
    fetch("status", { cache: "no-store", credentials: "same-origin", signal: ctrl.signal })
      .then(function (r) {
        if (r.status === 401) throw new Error("unauthorized (this API needs a bearer token)");
        if (!r.ok) throw new Error("HTTP " + r.status);
        return r.json();
      })
      .then(function (s) {
        if (!s || !Array.isArray(s.phases)) throw new Error("unexpected status document");
        snap = s; receivedAt = performance.now();
        setConn("ok", "live \\u00b7 updated " + new Date().toLocaleTimeString());
        render();
      })
      .catch(function (e) { setConn("lost", "connection to the tracer lost: " + (e && e.message ? e.message : e) + " (retrying)"); })
      .finally(function () { clearTimeout(timer); setTimeout(poll, POLL_MS); });
  }

  setInterval(function () { if (snap && snap.outcome === "running") { renderHeader(); renderWaterfall(); } }, 250);
  poll();
})();
`;

const BODY = `
<header>
  <h1>vLLM start-up <span class="model" id="model">connecting\u2026</span> <span class="badge" id="outcome" data-outcome="unknown">\u2026</span></h1>
  <div class="sub-title" id="meta"></div>
  <dl class="stats">
    <div><dt id="elapsed-label">Elapsed</dt><dd id="elapsed">\u2013</dd></div>
    <div><dt>ETA</dt><dd id="eta">\u2013</dd></div>
    <div><dt>Predicted total</dt><dd id="predicted">\u2013</dd></div>
    <div><dt>Current phase</dt><dd id="current">\u2013</dd></div>
  </dl>
  <div id="error" hidden></div>
</header>
<section id="waterfall" aria-label="Start-up phases">
  <h2>Phases</h2>
  <div class="wf">
    <div class="axis"><div></div><div class="ticks" id="ticks"></div><div></div></div>
    <div id="rows" role="list"></div>
    <div class="overlay"><div class="now" id="now"></div><div class="eta" id="eta-line" hidden></div></div>
  </div>
  <p id="empty">Waiting for the first phase\u2026</p>
  <div class="legend"><span class="l-act">actual</span><span class="l-run">running</span><span class="l-pred">predicted</span><span class="l-slow">slow</span><span class="l-eta">predicted ready</span></div>
</section>
<section id="cpu" aria-label="CPU per core">
  <h2>CPU per core <span class="sub-title" id="cpu-avg"></span></h2>
  <div id="cores"></div>
  <p id="cpu-empty">No CPU samples yet.</p>
</section>
<section id="slow-section" hidden>
  <h2>Slow phases</h2>
  <ul id="slow"></ul>
</section>
<section id="advice-section" hidden aria-label="What to try">
  <h2>What to try</h2>
  <ul id="advice"></ul>
</section>
<footer id="conn" data-state="connecting">connecting\u2026</footer>
`;

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>vLLM start-up</title>
<style>${STYLE}</style>
</head>
<body>
${BODY}
<script>${SCRIPT}</script>
</body>
</html>
`;

function sha256(s: string): string {
  return createHash("sha256").update(s, "utf8").digest("base64");
}

/** CSP for the page: only its own inline script and style (by hash), same-origin fetches. */
export const PAGE_CSP = [
  "default-src 'none'",
  `script-src 'sha256-${sha256(SCRIPT)}'`,
  `style-src 'sha256-${sha256(STYLE)}'`,
  "connect-src 'self'",
  "img-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

/** The complete page. */
export function renderPage(): string {
  return PAGE;
}
