// Eddy's dashboard: plain JavaScript over the REST API, polled every 500 ms (the server samples metrics every
// 500 ms, so what is shown is at most about a second old). No build step, no dependencies: the job graph's layout
// and the charts are drawn here as SVG. Every text from the server goes through esc() or textContent.
"use strict";

const POLL_MS = 500;
const CHART_WINDOW_MS = 5 * 60 * 1000;
const PALETTE = ["#2364aa", "#e07a1f", "#2e7d32", "#c0392b", "#7b4fa8", "#00838f", "#8d6e63", "#d81b60"];
const app = document.getElementById("app");
const connection = document.getElementById("connection");
let timer = null;
let page = null;        // { kind: "overview", tab } or { kind: "job", id, tab, ... }

const esc = (s) => String(s ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
const num = (n) => (n ?? 0).toLocaleString("en-US", { maximumFractionDigits: 1 });
const ms = (n) => (n == null ? "—" : `${Math.round(n).toLocaleString("en-US")} ms`);
const bytes = (n) => (n == null ? "—" : n < 1024 ? `${n} B` : n < 1048576 ? `${(n / 1024).toFixed(1)} KiB` : `${(n / 1048576).toFixed(1)} MiB`);
const time = (t) => (t == null || t < 0 ? "—" : new Date(t).toISOString().replace("T", " ").replace(/\.\d+Z$/, ""));
const watermark = (t) => (t == null ? "not set" : new Date(t).toISOString().replace("T", " ").replace("Z", ""));
const dropped = (s) => s["records-dropped"] ?? s["num-records-dropped"] ?? 0;
function duration(t) {
  if (t == null || t < 0) return "—";
  const s = Math.floor(t / 1000), m = Math.floor(s / 60), h = Math.floor(m / 60), d = Math.floor(h / 24);
  if (d > 0) return `${d}d ${h % 24}h`;
  if (h > 0) return `${h}h ${m % 60}m`;
  if (m > 0) return `${m}m ${s % 60}s`;
  return `${s}s`;
}
// Flink's backpressure levels: OK up to 10 % of the time, LOW up to 50 %, HIGH above.
const backpressureLevel = (msPerSecond) => (msPerSecond > 500 ? "HIGH" : msPerSecond > 100 ? "LOW" : "OK");

async function api(path, options) {
  const response = await fetch(path, { credentials: "same-origin", ...options });
  const text = await response.text();
  let body = null;
  try { body = text ? JSON.parse(text) : null; } catch { body = text; }
  if (!response.ok) {
    const message = body && body.errors ? body.errors.join("\n")
      : body && body["failure-cause"] ? `failed: ${body["failure-cause"]}` : `${response.status} ${response.statusText}`;
    const error = new Error(message);
    error.status = response.status;
    throw error;
  }
  return body;
}

// #/ and #/log: the overview's tabs; #/jobs/<id>[/<tab>]: a job's page and tab (overview, vertex-<id>, checkpoints, ...).
function parseHash() {
  const hash = location.hash || "#/";
  const distributed = hash.match(/^#\/distributed\/([^/]+)/);
  if (distributed) return { kind: "distributed", id: decodeURIComponent(distributed[1]), tab: "overview" };
  const job = hash.match(/^#\/jobs\/([^/]+)(?:\/(.+))?/);
  if (job) return { kind: "job", id: decodeURIComponent(job[1]), tab: job[2] ? decodeURIComponent(job[2]) : "overview" };
  return { kind: "overview", tab: hash === "#/log" ? "log" : "jobs" };
}

function route() {
  const target = parseHash();
  if (page && page.built && target.kind === page.kind && (target.kind === "overview" || target.id === page.id)) {
    // Same page, another tab: switch in place, keeping what the page has gathered (the charts' history).
    page.tab = target.tab;
    showTab(page);
    clearTimeout(timer);
    refresh();
    return;
  }
  page = { ...target, built: false };
  clearTimeout(timer);
  refresh();
}

async function refresh() {
  const current = page;
  try {
    if (current.kind === "overview") await renderOverview(current);
    else if (current.kind === "distributed") await renderDistributed(current);
    else await renderJob(current);
    connection.classList.remove("down");
  } catch (e) {
    connection.classList.add("down");
    if (e.status === 401) app.innerHTML = `<div class="notice error">${esc(e.message)}</div>`;
    else if (e.status === 404 && current.kind !== "overview") app.innerHTML = `<div class="notice error">${esc(e.message)}</div>`;
  }
  if (current === page) {
    clearTimeout(timer);
    timer = setTimeout(refresh, POLL_MS);
  }
}

function tabBar(tabs, active) {
  return tabs.map((t) => `<a class="tab${t.id === active ? " active" : ""}" role="tab" data-tab="${esc(t.id)}" href="${esc(t.href)}">${t.label}</a>`).join("");
}

function showTab(current) {
  document.querySelectorAll("#tabs .tab").forEach((a) => a.classList.toggle("active", a.dataset.tab === current.tab
    || (current.tab.startsWith("vertex-") && a.dataset.tab === current.tab)));
  const panel = current.kind === "job" && current.tab.startsWith("vertex-") ? "vertex" : current.tab;
  document.querySelectorAll(".panel").forEach((p) => { p.hidden = p.dataset.panel !== panel; });
}

// ---------- overview ----------

async function renderOverview(current) {
  const [overview, jobs, distributed] = await Promise.all([api("overview"), api("jobs/overview"), api("distributed-jobs")]);
  if (current !== page) return;
  if (!current.built) {
    app.innerHTML = `
      <h1>Overview</h1>
      <div class="cards" id="cards"></div>
      <div id="warnings"></div>
      <nav class="tabs" id="tabs" role="tablist">${tabBar([{ id: "jobs", href: "#/", label: "Jobs" }, { id: "log", href: "#/log", label: "Server log" }], current.tab)}</nav>
      <section class="panel" data-panel="jobs">
        <div id="jobs"></div>
        <div id="distributed-jobs"></div>
        <h2>Submit a job</h2>
        <textarea id="sql" placeholder="CREATE TABLE ... ; INSERT INTO ... (Flink SQL)"></textarea>
        <div class="toolbar"><button id="submit">Submit</button><span id="submit-result" class="muted"></span></div>
      </section>
      <section class="panel" data-panel="log" hidden>${logPanel()}</section>`;
    document.getElementById("submit").onclick = submit;
    current.built = true;
    showTab(current);
  }
  const card = (id, value, label) => `<div class="card" id="${id}"><div class="value">${value}</div><div class="label">${label}</div></div>`;
  document.getElementById("cards").innerHTML =
    card("slots-available", `${overview["slots-available"]} / ${overview["slots-total"]}`, "task slots available") +
    card("jobs-running", overview["jobs-running"], "running") +
    card("jobs-created", overview["jobs-created"], "waiting") +
    card("jobs-finished", overview["jobs-finished"], "finished") +
    card("jobs-failed", overview["jobs-failed"], "failed") +
    card("jobs-cancelled", overview["jobs-cancelled"], "cancelled") +
    card("uptime", duration(overview["uptime-ms"]), "uptime");
  document.getElementById("warnings").innerHTML = overview.warnings.map((w) => `<div class="notice">${esc(w)}</div>`).join("");
  document.getElementById("jobs").innerHTML = jobs.jobs.length === 0 ? `<p class="muted">No jobs yet.</p>` : `
    <table id="job-table"><tr><th>Name</th><th>State</th><th class="num">Slots</th><th>Started</th><th class="num">Duration</th>
      <th class="num">In/s</th><th class="num">Out/s</th><th>Notes</th></tr>
    ${jobs.jobs.map((j) => `<tr>
      <td><a href="#/jobs/${esc(encodeURIComponent(j.jid))}">${esc(j.name)}</a><div class="muted">${esc(j.jid)}</div></td>
      <td><span class="state ${esc(j.state)}">${esc(j.state)}</span></td>
      <td class="num">${j.slots}</td><td>${time(j["start-time"])}</td><td class="num">${duration(j.duration)}</td>
      <td class="num">${num(j["records-in-per-second"])}</td><td class="num">${num(j["records-out-per-second"])}</td>
      <td>${j["wait-reason"] ? esc(j["wait-reason"]) : ""}${j.findings ? ` <span class="muted">${j.findings} finding(s)</span>` : ""}${j.warnings ? ` <span class="muted">${j.warnings} warning(s)</span>` : ""}</td>
    </tr>`).join("")}</table>`;
  document.getElementById("distributed-jobs").innerHTML = distributed.jobs.length === 0 ? "" : `
    <h2>Distributed jobs</h2>
    <p class="muted">This server runs one worker of each (eddy submit --distributed); the job's other workers run elsewhere and share its partitions.</p>
    <table id="distributed-table"><tr><th>Name</th><th>State</th><th>Started</th><th class="num">Duration</th><th class="num">Partitions here</th><th>Notes</th></tr>
    ${distributed.jobs.map((j) => `<tr>
      <td><a href="#/distributed/${esc(encodeURIComponent(j.jid))}">${esc(j.name)}</a><div class="muted">${esc(j.jid)}</div></td>
      <td><span class="state ${esc(j.state)}">${esc(j.state)}</span></td><td>${time(j["start-time"])}</td><td class="num">${duration(j.duration)}</td>
      <td class="num">${j["partitions-owned"]}</td><td>${j.failure ? esc(j.failure) : ""}</td></tr>`).join("")}</table>`;
  if (current.tab === "log") await renderLog(current);
}

async function submit() {
  const result = document.getElementById("submit-result");
  try {
    const body = await api("jobs", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ sql: document.getElementById("sql").value }) });
    result.textContent = `submitted ${body.jobids.join(", ")}`;
  } catch (e) {
    result.innerHTML = `<pre>${esc(e.message)}</pre>`;
  }
}

function logPanel() {
  return `<p class="muted" id="server-log-info"></p><pre id="server-log" class="log"></pre>`;
}

async function renderLog(current) {
  const log = await api("server/log?lines=500");
  if (current !== page) return;
  const pre = document.getElementById("server-log");
  const atBottom = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 4;
  pre.textContent = log.lines.join("\n");
  if (atBottom) pre.scrollTop = pre.scrollHeight;
  document.getElementById("server-log-info").textContent =
    `the server's last ${log.lines.length} of ${log["total-lines"]} log line(s) (at most ${log.capacity} kept; secrets masked)`;
}

// ---------- job page ----------

async function renderJob(current) {
  const id = encodeURIComponent(current.id);
  const [job, checkpoints, exceptions, history] = await Promise.all([
    api(`jobs/${id}`), api(`jobs/${id}/checkpoints`), api(`jobs/${id}/exceptions`),
    api(`jobs/${id}/metrics/history?since=${current.historyUntil ?? 0}`)]);
  if (current !== page) return;
  if (!current.built) buildJobPage(current, job, id);
  mergeHistory(current, history);
  document.getElementById("job-name").textContent = job.name;
  const state = document.getElementById("job-state");
  state.textContent = job.state;
  state.className = `state ${job.state}`;
  document.getElementById("cancel").disabled = ["FINISHED", "FAILED", "CANCELED"].includes(job.state);
  document.getElementById("savepoint").disabled = job.state !== "RUNNING";
  document.getElementById("job-meta").innerHTML =
    `id ${esc(job.jid)} · ${job.slots} slot(s) · started ${time(job["start-time"])} · ${duration(job.duration)}` +
    (job["wait-reason"] ? `<div class="notice">${esc(job["wait-reason"])}</div>` : "");
  document.getElementById("diagnosis").innerHTML = job.diagnosis.map((f) =>
    `<div class="notice ${f.severity === "info" ? "info" : ""}" data-kind="${esc(f.kind)}"><b>Diagnosis:</b> ${esc(f.message)}</div>`).join("");
  document.getElementById("warnings").innerHTML = job.warnings.map((w) => `<div class="notice">${esc(w)}</div>`).join("");
  const exceptionCount = exceptions["exception-history"].length;
  document.getElementById("exception-count").textContent = exceptionCount ? ` (${exceptionCount})` : "";

  const tab = current.tab;
  if (tab === "overview") {
    renderGraph(current, job);
    renderVertexTable(job);
    renderJobCharts(current, job);
  } else if (tab.startsWith("vertex-")) {
    await renderVertex(current, job, id, tab.slice("vertex-".length), checkpoints);
  } else if (tab === "checkpoints") {
    renderCheckpoints(checkpoints);
  } else if (tab === "exceptions") {
    if (current.exceptionCount !== exceptionCount) {
      current.exceptionCount = exceptionCount;
      renderExceptions(exceptions);
    }
  } else if (tab === "output") {
    document.getElementById("output").textContent = job.output.join("\n");
  } else if (tab === "log") {
    await renderLog(current);
  }
}

function buildJobPage(current, job, id) {
  const base = `#/jobs/${encodeURIComponent(current.id)}`;
  const tabs = [{ id: "overview", href: base, label: "Overview" },
    ...job.vertices.map((v) => ({ id: `vertex-${v.id}`, href: `${base}/vertex-${encodeURIComponent(v.id)}`,
      label: `<span class="tab-id">${esc(v.id)}</span> ${esc(v.name)}` })),
    { id: "checkpoints", href: `${base}/checkpoints`, label: "Checkpoints" },
    { id: "exceptions", href: `${base}/exceptions`, label: `Exceptions<span id="exception-count"></span>` },
    { id: "output", href: `${base}/output`, label: "Output" },
    { id: "sql", href: `${base}/sql`, label: "SQL &amp; plan" },
    { id: "log", href: `${base}/log`, label: "Server log" }];
  app.innerHTML = `
    <div class="toolbar"><h1 id="job-name"></h1><span id="job-state" class="state"></span>
      <button id="cancel" class="danger">Cancel</button><button id="savepoint">Trigger savepoint</button><span id="action-result" class="muted"></span></div>
    <div id="job-meta" class="muted"></div>
    <div id="diagnosis"></div>
    <div id="warnings"></div>
    <nav class="tabs" id="tabs" role="tablist">${tabBar(tabs, current.tab)}</nav>
    <section class="panel" data-panel="overview">
      <div class="legend">colour by the busiest subtask: <span style="background:${colour(0, 0)}"></span>idle
        <span style="background:${colour(1000, 0)}"></span>busy <span style="background:${colour(0, 1000)}"></span>backpressured
        · edges are labelled with their exchange · click a vertex for its subtasks</div>
      <div id="graph"></div>
      <div id="vertex-summary"></div>
      <h2>Last minutes</h2>
      <div class="charts" id="job-charts"></div>
    </section>
    <section class="panel" data-panel="vertex" hidden><div id="vertex"></div></section>
    <section class="panel" data-panel="checkpoints" hidden><div id="checkpoints"></div></section>
    <section class="panel" data-panel="exceptions" hidden><div id="exceptions"></div></section>
    <section class="panel" data-panel="output" hidden><p class="muted">The last lines of the job's print sinks.</p><pre id="output"></pre></section>
    <section class="panel" data-panel="sql" hidden><h2>SQL</h2><pre id="job-sql"></pre><h2>Plan</h2><pre id="job-plan"></pre></section>
    <section class="panel" data-panel="log" hidden>${logPanel()}</section>`;
  document.getElementById("cancel").onclick = () => action(`jobs/${id}?mode=cancel`, "PATCH", "cancel requested");
  document.getElementById("savepoint").onclick = async () => {
    const result = document.getElementById("action-result");
    result.textContent = "taking a savepoint…";
    try {
      const answer = await api(`jobs/${id}/savepoints`, { method: "POST", headers: { "Content-Type": "application/json" }, body: "{}" });
      result.textContent = answer.status === "COMPLETED" ? `savepoint ${answer.id} written to ${answer.location}` : `savepoint failed: ${answer["failure-cause"]}`;
    } catch (e) {
      result.textContent = e.message;
    }
  };
  document.getElementById("job-sql").textContent = job.sql;
  document.getElementById("job-plan").textContent = job.plan;
  current.built = true;
  showTab(current);
}

async function action(path, method, done) {
  const result = document.getElementById("action-result");
  try {
    await api(path, { method });
    result.textContent = done;
  } catch (e) {
    result.textContent = e.message;
  }
}

// The server keeps the last ten minutes (one point a second); the page asks only for points it has not seen.
function mergeHistory(current, h) {
  const kept = current.history ?? { times: [], vertices: new Map(), checkpoints: [] };
  const fields = ["records-in-per-second", "records-out-per-second", "busy-time-ms-per-second", "back-pressured-time-ms-per-second", "watermark-lag-ms"];
  kept.times.push(...h.times);
  for (const v of h.vertices) {
    const series = kept.vertices.get(v.id) ?? { name: v.name, ...Object.fromEntries(fields.map((f) => [f, []])) };
    for (const f of fields) series[f].push(...v[f]);
    kept.vertices.set(v.id, series);
  }
  const drop = kept.times.findIndex((t) => t >= h.now - 2 * CHART_WINDOW_MS);
  if (drop > 0) {
    kept.times.splice(0, drop);
    for (const s of kept.vertices.values()) for (const f of fields) s[f].splice(0, drop);
  }
  kept.checkpoints = h.checkpoints;
  kept.now = h.now;
  if (h.times.length > 0) current.historyUntil = h.times[h.times.length - 1];
  current.history = kept;
  current.historyChanged = h.times.length > 0 || current.historyChanged;
}

// Flink's colouring: from idle blue towards red as the busiest subtask's busy share grows; grey to black when
// backpressure dominates.
function colour(busy, backpressured) {
  const mix = (a, b, t) => a.map((x, i) => Math.round(x + (b[i] - x) * t));
  const rgb = (c) => `rgb(${c.join(",")})`;
  if (backpressured > busy) return rgb(mix([225, 225, 225], [60, 60, 60], Math.min(1, backpressured / 1000)));
  return rgb(mix([214, 232, 250], [219, 68, 55], Math.min(1, busy / 1000)));
}

// Breaks a vertex name into lines no wider than `width` pixels in the boxes' font (measured, not guessed),
// preferring the chain's " -> " and spaces, so the whole name shows and nothing is cut off.
let measureContext = null;
function textWidth(text) {
  measureContext ??= document.createElement("canvas").getContext("2d");
  measureContext.font = `600 12px ${getComputedStyle(document.body).fontFamily}`;
  return measureContext.measureText(text).width;
}

function wrap(text, width) {
  const words = text.split(/(?<= -> )|(?<=[ ,])/);
  const lines = [];
  let line = "";
  const fits = (s) => textWidth(s.trimEnd()) <= width;
  for (let word of words) {
    if (fits(line + word)) { line += word; continue; }
    if (line) { lines.push(line.trimEnd()); line = ""; }
    while (!fits(word)) {
      let n = word.length - 1;
      while (n > 1 && !fits(word.slice(0, n))) n--;
      lines.push(word.slice(0, n));
      word = word.slice(n);
    }
    line = word;
  }
  if (line.trim()) lines.push(line.trimEnd());
  return lines;
}

// A layered left-to-right layout (Sugiyama style): layer = longest path from a source, order within a layer by the
// mean position of the inputs (a few sweeps to reduce crossings), each layer centred vertically.
function layoutDag(vertices, boxHeight) {
  const byId = new Map(vertices.map((v) => [v.id, v]));
  const layer = new Map();
  const depth = (v, seen) => {
    if (layer.has(v.id)) return layer.get(v.id);
    if (seen.has(v.id)) return 0;
    seen.add(v.id);
    const inputs = v.inputs.map((i) => byId.get(i)).filter(Boolean);
    const d = inputs.length === 0 ? 0 : 1 + Math.max(...inputs.map((i) => depth(i, seen)));
    layer.set(v.id, d);
    return d;
  };
  vertices.forEach((v) => depth(v, new Set()));
  const layers = [];
  for (const v of vertices) (layers[layer.get(v.id)] ??= []).push(v);
  const order = new Map();
  layers.forEach((l) => l.forEach((v, i) => order.set(v.id, i)));
  const outputs = new Map(vertices.map((v) => [v.id, []]));
  for (const v of vertices) for (const i of v.inputs) outputs.get(i)?.push(v.id);
  const mean = (ids, fallback) => (ids.length === 0 ? fallback : ids.reduce((s, i) => s + order.get(i), 0) / ids.length);
  for (let sweep = 0; sweep < 4; sweep++) {
    const forward = sweep % 2 === 0;
    const sequence = forward ? layers.slice(1) : layers.slice(0, -1).reverse();
    for (const l of sequence) {
      l.sort((a, b) => mean(forward ? a.inputs : outputs.get(a.id), order.get(a.id)) - mean(forward ? b.inputs : outputs.get(b.id), order.get(b.id)));
      l.forEach((v, i) => order.set(v.id, i));
    }
  }
  const GY = 28;
  const heights = layers.map((l) => l.reduce((s, v) => s + boxHeight(v), 0) + GY * (l.length - 1));
  const tallest = Math.max(0, ...heights);
  const pos = new Map();
  layers.forEach((l, d) => {
    let y = (tallest - heights[d]) / 2;
    for (const v of l) {
      pos.set(v.id, { layer: d, y, h: boxHeight(v) });
      y += boxHeight(v) + GY;
    }
  });
  return { pos, layers: layers.length, height: tallest };
}

function renderGraph(current, job) {
  const vertices = job.vertices;
  const W = 260, GX = 110, PAD = 16, LINE = 15;
  const names = new Map(vertices.map((v) => [v.id, wrap(v.name, W - 22)]));
  const boxHeight = (v) => 14 + names.get(v.id).length * LINE + 4 * 16 + 4;
  const layout = layoutDag(vertices, boxHeight);
  const x = (id) => PAD + layout.pos.get(id).layer * (W + GX);
  const y = (id) => PAD + layout.pos.get(id).y;
  const width = PAD * 2 + layout.layers * (W + GX) - GX;
  const height = PAD * 2 + layout.height;
  let svg = `<svg width="${width}" height="${height}" xmlns="http://www.w3.org/2000/svg">
    <defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
      <path d="M 0 0 L 10 5 L 0 10 z" fill="#8792a2"/></marker></defs>`;
  let labels = "";
  for (const v of vertices) {
    (v["input-edges"] ?? v.inputs.map((i) => ({ id: i, "ship-strategy": "" }))).forEach((e) => {
      if (!layout.pos.has(e.id)) return;
      const x1 = x(e.id) + W, y1 = y(e.id) + layout.pos.get(e.id).h / 2, x2 = x(v.id), y2 = y(v.id) + layout.pos.get(v.id).h / 2;
      svg += `<path class="edge" data-from="${esc(e.id)}" data-to="${esc(v.id)}" marker-end="url(#arrow)" d="M ${x1} ${y1} C ${x1 + GX / 2} ${y1}, ${x2 - GX / 2} ${y2}, ${x2} ${y2}"/>`;
      const strategy = e["ship-strategy"];
      if (strategy) {
        const lx = (x1 + x2) / 2, ly = (y1 + y2) / 2, lw = strategy.length * 7 + 10;
        labels += `<g class="edge-label" data-from="${esc(e.id)}" data-to="${esc(v.id)}"><rect x="${lx - lw / 2}" y="${ly - 9}" width="${lw}" height="18" rx="9"/>
          <text x="${lx}" y="${ly + 4}" text-anchor="middle">${esc(strategy)}</text></g>`;
      }
    });
  }
  svg += labels;
  for (const v of vertices) {
    const m = v.metrics, lines = names.get(v.id), h = layout.pos.get(v.id).h;
    const fill = colour(m["busy-time-ms-per-second"], m["back-pressured-time-ms-per-second"]);
    const dark = m["busy-time-ms-per-second"] > 600 || m["back-pressured-time-ms-per-second"] > 600;
    const ink = dark ? "#fff" : "#1d2430";
    const top = 14 + lines.length * LINE;
    svg += `<g class="vertex" data-id="${esc(v.id)}" data-layer="${layout.pos.get(v.id).layer}" transform="translate(${x(v.id)},${y(v.id)})" tabindex="0">
      <title>${esc(v.name)}</title>
      <rect width="${W}" height="${h}" fill="${fill}"/>
      <text class="name" x="10" y="4" fill="${ink}" font-weight="600">${lines.map((l) => `<tspan x="10" dy="${LINE}">${esc(l)}</tspan>`).join("")}</text>
      <text x="10" y="${top + 12}" fill="${ink}">parallelism ${v.parallelism} · busy ${Math.round(m["busy-time-ms-per-second"] / 10)}% · bp ${Math.round(m["back-pressured-time-ms-per-second"] / 10)}%</text>
      <text x="10" y="${top + 28}" fill="${ink}" class="rates">in ${num(m["records-in-per-second"])}/s · out ${num(m["records-out-per-second"])}/s</text>
      <text x="10" y="${top + 44}" fill="${ink}" class="totals">records in ${num(m["read-records"])} · out ${num(m["write-records"])}</text>
      <text x="10" y="${top + 60}" fill="${ink}" font-size="11">watermark ${esc(watermark(m.watermark))}</text>
    </g>`;
  }
  svg += "</svg>";
  const graph = document.getElementById("graph");
  graph.innerHTML = svg;
  graph.querySelectorAll(".vertex").forEach((g) => g.addEventListener("click", () => openVertex(current, g.dataset.id)));
}

function openVertex(current, id) {
  location.hash = `#/jobs/${encodeURIComponent(current.id)}/vertex-${encodeURIComponent(id)}`;
}

function renderVertexTable(job) {
  document.getElementById("vertex-summary").innerHTML = `<table id="vertex-table"><tr><th>Vertex</th><th class="num">Parallelism</th>
    <th class="num">Records in</th><th class="num">Records out</th><th class="num">Dropped</th><th class="num">In/s</th><th class="num">Out/s</th>
    <th class="num">Busy (max)</th><th>Backpressure (max)</th><th>Watermark</th><th class="num">State size</th></tr>
    ${job.vertices.map((v) => { const m = v.metrics; return `<tr>
      <td class="name"><a href="#/jobs/${esc(encodeURIComponent(job.jid))}/vertex-${esc(encodeURIComponent(v.id))}">${esc(v.id)}. ${esc(v.name)}</a></td>
      <td class="num">${v.parallelism}</td><td class="num">${num(m["read-records"])}</td><td class="num">${num(m["write-records"])}</td>
      <td class="num">${num(dropped(m))}</td><td class="num">${num(m["records-in-per-second"])}</td><td class="num">${num(m["records-out-per-second"])}</td>
      <td class="num">${Math.round(m["busy-time-ms-per-second"] / 10)}%</td>
      <td><span class="bp ${backpressureLevel(m["back-pressured-time-ms-per-second"])}">${backpressureLevel(m["back-pressured-time-ms-per-second"])}</span> ${Math.round(m["back-pressured-time-ms-per-second"] / 10)}%</td>
      <td>${esc(watermark(m.watermark))}</td><td class="num">${bytes(v["state-size"])}</td></tr>`; }).join("")}</table>`;
}

// ---------- charts ----------

function niceCeiling(x) {
  if (!(x > 0)) return 1;
  const p = Math.pow(10, Math.floor(Math.log10(x)));
  for (const m of [1, 2, 2.5, 5, 10]) if (x <= m * p) return m * p;
  return 10 * p;
}

const rateFormat = (v) => (v >= 10000 ? `${(v / 1000).toFixed(0)}k` : v >= 1000 ? `${(v / 1000).toFixed(1)}k` : `${Math.round(v)}`);
const msFormat = (v) => (v >= 86400000 ? `${Math.round(v / 86400000).toLocaleString("en-US")} d` : v >= 3600000 ? `${(v / 3600000).toFixed(1)} h`
  : v >= 60000 ? `${(v / 60000).toFixed(1)} min` : v >= 1000 ? `${(v / 1000).toFixed(v >= 10000 ? 0 : 1)} s` : `${Math.round(v)} ms`);
const percentFormat = (v) => `${Math.round(v / 10)}%`;

// A line chart of series [{ name, colour, points: [[time, value]] }] over the last CHART_WINDOW_MS; `dots` marks
// each point (checkpoints). Gaps (null values) break the line.
function lineChart({ id, title, series, format, max, dots, now, empty, since }) {
  const W = 640, H = 190, L = 64, R = 12, T = 10, B = 24;
  // The last five minutes, or less while the job is younger (at least one), so a new job's line is not a sliver.
  const span = Math.min(CHART_WINDOW_MS, Math.max(60000, now - (since ?? now - CHART_WINDOW_MS)));
  const t0 = now - span;
  const visible = series.map((s) => ({ ...s, points: s.points.filter(([t, v]) => t >= t0 && v != null) }));
  const top = max ?? niceCeiling(Math.max(0, ...visible.flatMap((s) => s.points.map(([, v]) => v))));
  const px = (t) => L + ((t - t0) / span) * (W - L - R);
  const py = (v) => T + (1 - Math.min(v, top) / top) * (H - T - B);
  const drawn = visible.some((s) => s.points.length > 0);
  let svg = `<svg class="chart-svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" xmlns="http://www.w3.org/2000/svg">`;
  for (let i = 0; i <= 4; i++) {
    const v = (top * i) / 4;
    svg += `<line class="grid" x1="${L}" x2="${W - R}" y1="${py(v)}" y2="${py(v)}"/>`;
    if (drawn || max != null) svg += `<text class="axis" x="${L - 6}" y="${py(v) + 4}" text-anchor="end">${esc(format(v))}</text>`;
  }
  const step = span > 120000 ? 60000 : span > 60000 ? 30000 : 15000;
  for (let back = 0; back <= span; back += step) {
    const label = back === 0 ? "now" : back % 60000 === 0 ? `−${back / 60000} min` : `−${back / 1000} s`;
    svg += `<text class="axis" x="${px(now - back)}" y="${H - 6}" text-anchor="${back + step > span ? "start" : "middle"}">${label}</text>`;
  }
  for (const s of visible) {
    const segments = [];
    let segment = [];
    const all = series.find((x) => x.name === s.name).points.filter(([t]) => t >= t0);
    for (const [t, v] of all) {
      if (v == null) { if (segment.length) segments.push(segment); segment = []; } else segment.push(`${px(t).toFixed(1)},${py(v).toFixed(1)}`);
    }
    if (segment.length) segments.push(segment);
    for (const seg of segments) {
      svg += `<polyline class="series" data-series="${esc(s.name)}" data-points="${seg.length}" points="${seg.join(" ")}" stroke="${s.colour}"${dots ? ' stroke-width="1" stroke-opacity=".5"' : ""}${s.dashed ? ' stroke-dasharray="5 3"' : ""}/>`;
    }
    if (dots) for (const [t, v, cls] of s.points) svg += `<circle class="dot ${cls ?? ""}" cx="${px(t).toFixed(1)}" cy="${py(v).toFixed(1)}" r="3.5" fill="${cls === "failed" ? "#c0392b" : s.colour}"><title>${esc(format(v))}</title></circle>`;
  }
  if (!drawn) svg += `<text class="axis" x="${(L + W - R) / 2}" y="${H / 2}" text-anchor="middle">${esc(empty ?? "no data yet")}</text>`;
  svg += "</svg>";
  const named = visible.filter((s) => s.name && !s.noLegend);
  const legend = named.length > 0
    ? `<div class="chart-legend">${named.map((s) => `<span><i style="background:${s.colour}"></i>${esc(s.name)}</span>`).join("")}</div>` : "";
  return `<figure class="chart" id="${esc(id)}"><figcaption>${esc(title)}</figcaption>${svg}${legend}</figure>`;
}

function seriesOf(history, vertexId, field) {
  const s = history.vertices.get(vertexId);
  return s ? history.times.map((t, i) => [t, s[field][i]]) : [];
}

function checkpointSeries(history) {
  return [{ name: "", colour: PALETTE[0], points: history.checkpoints.map((c) => [c["trigger-timestamp"], c["end-to-end-duration"], c.status === "FAILED" ? "failed" : ""]) }];
}

function renderJobCharts(current, job) {
  const h = current.history;
  if (!h || !(current.historyChanged || current.chartsFor !== "overview")) return;
  current.historyChanged = false;
  current.chartsFor = "overview";
  const perVertex = (field, filter = () => true) => job.vertices.filter(filter).map((v, i) => ({
    name: `${v.id}. ${v.name}`, colour: PALETTE[(Number(v.id) - 1 + PALETTE.length) % PALETTE.length] ?? PALETTE[i % PALETTE.length],
    points: seriesOf(h, v.id, field) }));
  document.getElementById("job-charts").innerHTML =
    lineChart({ id: "chart-throughput", title: "Records per second per vertex (solid: in, dashed: out)", format: rateFormat, now: h.now, since: h.times[0],
      series: [...perVertex("records-in-per-second"), ...perVertex("records-out-per-second").map((s) => ({ ...s, name: `${s.name} (out)`, dashed: true, noLegend: true }))] }) +
    lineChart({ id: "chart-watermark-lag", title: "Watermark lag (processing time − lowest input watermark)",
      series: perVertex("watermark-lag-ms", (v) => seriesOf(h, v.id, "watermark-lag-ms").some(([, x]) => x != null)), format: msFormat, now: h.now, since: h.times[0],
      empty: "no watermark yet" }) +
    lineChart({ id: "chart-backpressure", title: "Backpressured time of the busiest subtask", series: perVertex("back-pressured-time-ms-per-second"),
      format: percentFormat, max: 1000, now: h.now, since: h.times[0] }) +
    lineChart({ id: "chart-checkpoints", title: "Checkpoint duration (end to end; red: failed)", series: checkpointSeries(h), format: msFormat, dots: true, now: h.now, since: h.times[0],
      empty: job.checkpointing && !job.checkpointing.enabled ? "periodic checkpoints are disabled" : "no checkpoints in the last minutes" });
}

// ---------- one vertex ----------

async function renderVertex(current, job, id, vertexId, checkpoints) {
  const vertex = job.vertices.find((v) => v.id === vertexId);
  const panel = document.getElementById("vertex");
  if (!vertex) {
    panel.innerHTML = `<div class="notice error">this job has no vertex ${esc(vertexId)}</div>`;
    return;
  }
  const [data, watermarks] = await Promise.all([
    api(`jobs/${id}/vertices/${encodeURIComponent(vertex.id)}/subtasks/metrics`), api(`jobs/${id}/watermarks`)]);
  if (current !== page || current.tab !== `vertex-${vertexId}`) return;
  if (current.vertexBuilt !== vertexId) {
    const inputs = (vertex["input-edges"] ?? []).map((e) => {
      const from = job.vertices.find((v) => v.id === e.id);
      return `<li>${esc(e["ship-strategy"])} from ${esc(e.id)}. ${esc(from ? from.name : "")}</li>`;
    }).join("");
    panel.innerHTML = `
      <h2 class="vertex-title" id="vertex-name">${esc(vertex.id)}. ${esc(vertex.name)}</h2>
      <div class="vertex-facts" id="vertex-facts"></div>
      <div class="columns">
        <div><h3>Operators (chained)</h3><ol class="operators">${vertex.operators.map((o) => `<li>${esc(o)}</li>`).join("")}</ol></div>
        <div><h3>Inputs</h3>${inputs ? `<ul class="operators">${inputs}</ul>` : `<p class="muted">a source: no inputs</p>`}</div>
      </div>
      <h3>Subtasks</h3><div id="subtasks"></div>
      <h3>Watermarks</h3><div id="watermarks"></div>
      <h3>Last minutes</h3><div class="charts" id="vertex-charts"></div>`;
    current.vertexBuilt = vertexId;
    current.chartsFor = null;
  }
  const m = vertex.metrics;
  const stateCheckpoint = checkpoints.latest.completed;
  document.getElementById("vertex-facts").innerHTML = [
    ["parallelism", vertex.parallelism],
    ["records in / out", `${num(m["read-records"])} / ${num(m["write-records"])}`],
    ["in/s / out/s", `${num(m["records-in-per-second"])} / ${num(m["records-out-per-second"])}`],
    ["records dropped", num(data.subtasks.reduce((s, x) => s + dropped(x), 0))],
    ["backpressure", `<span class="bp ${backpressureLevel(m["back-pressured-time-ms-per-second"])}">${backpressureLevel(m["back-pressured-time-ms-per-second"])}</span>`],
    ["watermark", esc(watermark(m.watermark))],
    ["state size", vertex["state-size"] == null ? `<span class="muted">no completed checkpoint</span>`
      : `<span id="vertex-state-size">${bytes(vertex["state-size"])}</span> <span class="muted">(checkpoint #${stateCheckpoint ? stateCheckpoint.id : "?"})</span>`],
  ].map(([k, v]) => `<div class="fact"><div class="label">${k}</div><div class="value">${v}</div></div>`).join("");
  document.getElementById("subtasks").innerHTML = `<table id="subtask-table"><tr><th>#</th><th class="num">Records in</th><th class="num">Records out</th>
    <th class="num">Records dropped</th><th class="num">In/s</th><th class="num">Out/s</th><th class="num">Bytes in</th><th class="num">Busy</th><th class="num">Idle</th>
    <th>Backpressure</th><th class="num">Queue</th><th>Watermark</th><th class="num">Late dropped</th><th>Last data</th></tr>
    ${data.subtasks.map((s) => `<tr><td>${s.subtask + 1}</td><td class="num">${num(s["records-in"])}</td><td class="num">${num(s["records-out"])}</td>
      <td class="num dropped">${num(dropped(s))}</td>
      <td class="num">${num(s["records-in-per-second"])}</td><td class="num">${num(s["records-out-per-second"])}</td><td class="num">${bytes(s["bytes-in"])}</td>
      <td class="num">${Math.round(s["busy-time-ms-per-second"] / 10)}%</td><td class="num">${Math.round(s["idle-time-ms-per-second"] / 10)}%</td>
      <td><span class="bp ${backpressureLevel(s["back-pressured-time-ms-per-second"])}">${backpressureLevel(s["back-pressured-time-ms-per-second"])}</span> ${Math.round(s["back-pressured-time-ms-per-second"] / 10)}%</td>
      <td class="num">${Math.round(s["queue-fill"] * 100)}%</td><td>${esc(watermark(s.watermark))}${s.idle ? " (idle)" : ""}</td>
      <td class="num">${num(s["late-records-dropped"])}</td><td>${s["ms-since-last-record"] == null ? "never" : duration(s["ms-since-last-record"]) + " ago"}</td></tr>`).join("")}</table>`;
  const w = watermarks.vertices.find((v) => v.id === vertexId);
  document.getElementById("watermarks").innerHTML = !w ? "" : `<table id="watermark-table"><tr><th>Subtask</th><th>Watermark</th><th>Idle</th><th>Last data</th><th>Splits (partition: watermark)</th></tr>
    ${w.subtasks.map((s) => `<tr><td>${s.subtask + 1}</td><td>${esc(watermark(s.watermark))}</td><td>${s.idle ? "idle" : ""}</td>
      <td>${s["ms-since-last-record"] == null ? "never" : duration(s["ms-since-last-record"]) + " ago"}</td>
      <td>${(s.splits || []).map((x) => `${esc(x.name)}: ${esc(watermark(x.watermark))}${x.idle ? " (idle)" : ""}${x["last-data-time"] == null ? " (no data)" : ""}`).join("<br>")}</td></tr>`).join("")}</table>`;
  const h = current.history;
  if (h && (current.historyChanged || current.chartsFor !== vertexId)) {
    current.historyChanged = false;
    current.chartsFor = vertexId;
    document.getElementById("vertex-charts").innerHTML =
      lineChart({ id: "chart-vertex-throughput", title: "Records per second", format: rateFormat, now: h.now, since: h.times[0], series: [
        { name: "in", colour: PALETTE[0], points: seriesOf(h, vertexId, "records-in-per-second") },
        { name: "out", colour: PALETTE[1], points: seriesOf(h, vertexId, "records-out-per-second") }] }) +
      lineChart({ id: "chart-vertex-watermark-lag", title: "Watermark lag", format: msFormat, now: h.now, since: h.times[0], empty: "no watermark yet",
        series: [{ name: "", colour: PALETTE[2], points: seriesOf(h, vertexId, "watermark-lag-ms") }] }) +
      lineChart({ id: "chart-vertex-backpressure", title: "Busiest subtask: busy and backpressured time", format: percentFormat, max: 1000, now: h.now, since: h.times[0], series: [
        { name: "busy", colour: PALETTE[3], points: seriesOf(h, vertexId, "busy-time-ms-per-second") },
        { name: "backpressured", colour: "#555", points: seriesOf(h, vertexId, "back-pressured-time-ms-per-second") }] });
  }
}

// ---------- distributed job page ----------

// This server's part (its worker's stages and partitions, from /distributed-jobs/<id>) and the whole job (every worker,
// from the job's directory topic: /distributed-jobs/<id>/status, which the server refreshes at most every 2 s).
async function renderDistributed(current) {
  const id = encodeURIComponent(current.id);
  const detail = await api(`distributed-jobs/${id}`);
  let whole = null, wholeError = null;
  if (detail.job.state === "RUNNING" || detail.job.state === "CANCELLING") {
    try { whole = await api(`distributed-jobs/${id}/status`); } catch (e) { if (e.status === 401) throw e; wholeError = e.message; }
  }
  if (current !== page) return;
  if (!current.built) {
    app.innerHTML = `
      <div class="toolbar"><h1 id="job-name"></h1><span id="job-state" class="state"></span>
        <button id="cancel" class="danger">Cancel</button><span id="action-result" class="muted"></span></div>
      <div id="job-meta" class="muted"></div>
      <h2>This server's worker</h2><div id="here"></div>
      <h2>The whole job</h2><div id="whole"></div>
      <h2>Worker log</h2><pre id="worker-log" class="log"></pre>
      <h2>SQL</h2><pre id="job-sql"></pre>`;
    document.getElementById("cancel").onclick = () => action(`distributed-jobs/${id}?mode=cancel`, "PATCH", "cancel requested: final checkpoints, then the worker leaves the groups");
    current.built = true;
  }
  const j = detail.job;
  document.getElementById("job-name").textContent = j.name;
  const state = document.getElementById("job-state");
  state.textContent = j.state;
  state.className = `state ${j.state}`;
  document.getElementById("cancel").disabled = j.state !== "RUNNING";
  document.getElementById("job-meta").innerHTML = `id ${esc(j.jid)} · distributed · announced as ${esc(j["worker-address"] || "—")} · started ${time(j["start-time"])} · ${duration(j.duration)}`
    + (j.failure ? `<div class="notice error">${esc(j.failure)}</div>` : "");
  const w = detail.worker;
  document.getElementById("here").innerHTML = !w ? `<p class="muted">The worker is not running.</p>` : w.stages.map((st) => `
    <h3>Stage ${st.stage}: ${esc(st.topic)} <span class="muted">(${st.partitions} partitions, group ${esc(st.group)})</span></h3>
    ${st.tasks.length === 0 ? `<p class="muted">No partition of this stage runs here now.</p>` : `<table class="stage-tasks"><tr><th class="num">Partition</th><th>State</th>
      <th class="num">Lag</th><th class="num">Last checkpoint</th><th>At</th><th class="num">Records read</th><th class="num">Restarts</th></tr>
      ${st.tasks.map((t) => `<tr><td class="num">${t.partition}</td><td>${esc(t.state)}</td><td class="num">${t.lag ?? "—"}</td>
        <td class="num">${t["last-checkpoint"] ?? "—"}</td><td>${esc(t["last-checkpoint-at"] || "—")}</td><td class="num">${num(t["records-read"])}</td><td class="num">${t.restarts}</td></tr>`).join("")}</table>`}`).join("");
  document.getElementById("whole").innerHTML = wholeError ? `<div class="notice">${esc(wholeError)}</div>` : !whole ? `<p class="muted">Shown while the job runs.</p>` : `
    ${(whole.warnings || []).map((x) => `<div class="notice">${esc(x)}</div>`).join("")}
    <table id="workers-table"><tr><th>Worker</th><th>Address</th><th>Host / pid</th><th>State</th><th>Partitions per stage</th></tr>
    ${whole.workers.map((x) => `<tr><td>${esc(x.worker)}</td><td>${esc(x.address)}</td><td>${esc(x.host)} / ${x.pid}</td>
      <td>${x.reachable ? "up" : `<span class="state FAILED">unreachable</span> ${esc(x.error)}`}</td>
      <td>${x.stages.map((st) => `stage ${st.stage}: ${st.partitions.join(",") || "—"}`).join("<br>")}</td></tr>`).join("")}</table>
    ${whole.unowned.length ? `<div class="notice">Owned by no reachable worker: ${whole.unowned.map((u) => `stage ${u.stage} partition ${u.partition}`).join(", ")}</div>` : ""}
    <h3>Partitions</h3>
    <table id="partitions-table"><tr><th class="num">Stage</th><th class="num">Partition</th><th>Worker</th><th>State</th><th class="num">Lag</th>
      <th class="num">Last checkpoint</th><th>At</th><th class="num">Records read</th></tr>
    ${whole.partitions.map((p) => `<tr><td class="num">${p.stage}</td><td class="num">${p.partition}</td><td>${esc(p.worker)}</td><td>${esc(p.state)}</td>
      <td class="num">${p.lag ?? "—"}</td><td class="num">${p["last-checkpoint"] ?? "—"}</td><td>${esc(p["last-checkpoint-at"] || "—")}</td><td class="num">${num(p["records-read"])}</td></tr>`).join("")}</table>
    <h3>Rebalances</h3>
    ${whole.rebalances.length === 0 ? `<p class="muted">None seen.</p>` : `<table id="rebalances-table"><tr><th>Worker</th><th class="num">Stage</th><th>At</th><th>Kind</th><th>Partitions</th><th class="num">Duration</th></tr>
    ${whole.rebalances.map((r) => `<tr><td>${esc(r.worker)}</td><td class="num">${r.stage}</td><td>${esc(r.at)}</td><td>${esc(r.kind)}</td>
      <td>${esc((r.partitions || []).join(","))}</td><td class="num">${ms(r["duration-ms"])}</td></tr>`).join("")}</table>`}`;
  const log = document.getElementById("worker-log");
  log.textContent = detail.log.join("\n");
  document.getElementById("job-sql").textContent = detail.sql;
}

// ---------- checkpoints ----------

function renderCheckpoints(data) {
  const c = data.config, n = data.counts, latest = data.latest, summary = data.summary;
  const entry = (label, h) => h ? `<li>${label}: #${h.id} ${esc(h.status)} at ${time(h["trigger-timestamp"])} in ${ms(h["end-to-end-duration"])}${h["external-path"] ? ` — <code>${esc(h["external-path"])}</code>` : ""}${h["failure-message"] ? ` — ${esc(h["failure-message"])}` : ""}</li>` : "";
  const restored = latest.restored ? `<li>restored: ${latest.restored["is-savepoint"] ? "savepoint" : "checkpoint"} #${latest.restored.id} — <code>${esc(latest.restored["external-path"] || "")}</code></li>` : "";
  const stat = (label, s, f) => `<tr><th>${label}</th><td class="num">${s ? f(s.min) : "—"}</td><td class="num">${s ? f(s.avg) : "—"}</td><td class="num">${s ? f(s.max) : "—"}</td></tr>`;
  const summaryTable = `<table id="checkpoint-summary" class="narrow"><tr><th>Over ${summary.count} completed</th><th class="num">Minimum</th><th class="num">Average</th><th class="num">Maximum</th></tr>
    ${stat("End-to-end duration", summary["end-to-end-duration"], ms)}${stat("Alignment duration", summary["alignment-duration"], ms)}${stat("State size", summary["state-size"], bytes)}</table>`;
  const restorable = data.history.filter((h) => h.restorable);
  const restorableList = restorable.length === 0 ? `<p class="muted">None on disk.</p>`
    : `<ul id="restorable">${restorable.map((h) => `<li data-id="${h.id}">${h["is-savepoint"] ? "savepoint" : "checkpoint"} #${h.id} (${time(h["trigger-timestamp"])}, ${bytes(h["state-size"])}) — <code>${esc(h["external-path"])}</code></li>`).join("")}</ul>`;
  const operators = (h) => {
    const entries = Object.entries(h["state-size-per-operator"] || {}).sort(([a], [b]) => a.localeCompare(b, "en", { numeric: true }));
    return entries.length === 0 ? "" : `<details><summary>${entries.length} operator(s)</summary>${entries.map(([k, v]) => `${esc(k)}: ${bytes(v)}`).join("<br>")}</details>`;
  };
  const base = (path) => String(path).split(/[\\/]/).pop();
  const history = data.history.length === 0 ? `<p class="muted">No checkpoints recorded.</p>` : `<table id="checkpoint-table"><tr><th>ID</th><th>Status</th><th>Triggered</th>
    <th class="num">End to end</th><th class="num">Alignment</th><th class="num">Sync / async</th><th class="num">State size</th><th>Per operator</th><th>Restorable</th><th>Folder / failure</th></tr>${data.history.slice(0, 20).map((h) => `<tr>
    <td>${h.id}${h["is-savepoint"] ? " (savepoint)" : ""}</td><td>${esc(h.status)}</td><td class="nowrap" title="${esc(time(h["trigger-timestamp"]))}">${time(h["trigger-timestamp"]).slice(11)}</td>
    <td class="num duration">${ms(h["end-to-end-duration"])}</td><td class="num">${ms(h["alignment-duration"])}</td>
    <td class="num">${ms(h["sync-duration"])} / ${ms(h["async-duration"])}</td>
    <td class="num">${bytes(h["state-size"])}</td><td class="small">${operators(h)}</td><td>${h.restorable ? "yes" : h.status === "COMPLETED" ? `<span class="muted">removed</span>` : ""}</td>
    <td class="small">${h["failure-message"] ? esc(h["failure-message"]) : h["external-path"] ? `<span title="${esc(h["external-path"])}">${esc(base(h["external-path"]))}</span>` : ""}</td></tr>`).join("")}</table>`;
  document.getElementById("checkpoints").innerHTML = `<p class="muted">${esc(c.message)}</p>
    <p id="checkpoint-counts">${n.total} triggered · ${n.completed} completed · ${n["in-progress"]} in progress · ${n.failed} failed · ${n.restored} restored</p>
    ${summaryTable}
    <h3>Latest</h3><ul>${entry("completed", latest.completed)}${entry("savepoint", latest.savepoint)}${entry("failed", latest.failed)}${restored}</ul>
    <h3>Restorable (on disk: the retained checkpoints and the savepoints)</h3>${restorableList}
    <h3>History (last 20)</h3>${history}`;
}

function renderExceptions(data) {
  const entries = data["exception-history"];
  const restarts = data.restarts > 0 ? `<p class="muted">${data.restarts} restart(s) so far</p>` : "";
  document.getElementById("exceptions").innerHTML = restarts + (entries.length === 0 ? `<p class="muted">No exceptions.</p>` :
    entries.map((e) => `<div class="notice error"><b>${esc(time(e.timestamp))}</b> ${e.attempt ? `attempt ${e.attempt} · ` : ""}${e["task-name"] ? esc(e["task-name"]) + ": " : ""}${esc(e.message)}
      <details><summary>stack trace</summary><pre>${esc(e.stacktrace)}</pre></details></div>`).join(""));
}

window.addEventListener("hashchange", route);
route();
