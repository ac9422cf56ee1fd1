// Eddy's dashboard: plain JavaScript over the REST API, polled every 500 ms (the server samples metrics every
// 500 ms, so what is shown is at most about a second old). No build step, no dependencies.
"use strict";

const POLL_MS = 500;
const app = document.getElementById("app");
const connection = document.getElementById("connection");
let timer = null;
let page = null;        // { kind: "overview" } or { kind: "job", id, selected }

const esc = (s) => String(s ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
const num = (n) => (n ?? 0).toLocaleString("en-US", { maximumFractionDigits: 1 });
const time = (ms) => (ms == null || ms < 0 ? "—" : new Date(ms).toISOString().replace("T", " ").replace(/\.\d+Z$/, ""));
const watermark = (ms) => (ms == null ? "not set" : new Date(ms).toISOString().replace("T", " ").replace("Z", ""));
function duration(ms) {
  if (ms == null || ms < 0) return "—";
  const s = Math.floor(ms / 1000), m = Math.floor(s / 60), h = Math.floor(m / 60), d = Math.floor(h / 24);
  if (d > 0) return `${d}d ${h % 24}h`;
  if (h > 0) return `${h}h ${m % 60}m`;
  if (m > 0) return `${m}m ${s % 60}s`;
  return `${s}s`;
}

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

function route() {
  const hash = location.hash || "#/";
  const match = hash.match(/^#\/jobs\/([^/]+)/);
  page = match ? { kind: "job", id: decodeURIComponent(match[1]), selected: null, built: false } : { kind: "overview", built: false };
  clearTimeout(timer);
  refresh();
}

async function refresh() {
  const current = page;
  try {
    if (current.kind === "overview") await renderOverview(current);
    else await renderJob(current);
    connection.classList.remove("down");
  } catch (e) {
    connection.classList.add("down");
    if (e.status === 401) app.innerHTML = `<div class="notice error">${esc(e.message)}</div>`;
    else if (e.status === 404 && current.kind === "job") app.innerHTML = `<div class="notice error">${esc(e.message)}</div>`;
  }
  if (current === page) timer = setTimeout(refresh, POLL_MS);
}

// ---------- overview ----------

async function renderOverview(current) {
  const [overview, jobs] = await Promise.all([api("overview"), api("jobs/overview")]);
  if (current !== page) return;
  if (!current.built) {
    app.innerHTML = `
      <h1>Overview</h1>
      <div class="cards" id="cards"></div>
      <div id="warnings"></div>
      <h2>Jobs</h2>
      <div id="jobs"></div>
      <h2>Submit a job</h2>
      <textarea id="sql" placeholder="CREATE TABLE ... ; INSERT INTO ... (Flink SQL)"></textarea>
      <div class="toolbar"><button id="submit">Submit</button><span id="submit-result" class="muted"></span></div>`;
    document.getElementById("submit").onclick = submit;
    current.built = true;
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
      <td><a href="#/jobs/${esc(j.jid)}">${esc(j.name)}</a><div class="muted">${esc(j.jid)}</div></td>
      <td><span class="state ${esc(j.state)}">${esc(j.state)}</span></td>
      <td class="num">${j.slots}</td><td>${time(j["start-time"])}</td><td class="num">${duration(j.duration)}</td>
      <td class="num">${num(j["records-in-per-second"])}</td><td class="num">${num(j["records-out-per-second"])}</td>
      <td>${j["wait-reason"] ? esc(j["wait-reason"]) : ""}${j.findings ? ` <span class="muted">${j.findings} finding(s)</span>` : ""}${j.warnings ? ` <span class="muted">${j.warnings} warning(s)</span>` : ""}</td>
    </tr>`).join("")}</table>`;
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

// ---------- job page ----------

async function renderJob(current) {
  const id = encodeURIComponent(current.id);
  const [job, watermarks, checkpoints, exceptions] = await Promise.all([
    api(`jobs/${id}`), api(`jobs/${id}/watermarks`), api(`jobs/${id}/checkpoints`), api(`jobs/${id}/exceptions`)]);
  if (current !== page) return;
  if (!current.built) {
    app.innerHTML = `
      <div class="toolbar"><h1 id="job-name"></h1><span id="job-state" class="state"></span>
        <button id="cancel" class="danger">Cancel</button><button id="savepoint">Trigger savepoint</button><span id="action-result" class="muted"></span></div>
      <div id="job-meta" class="muted"></div>
      <div id="diagnosis"></div>
      <div id="warnings"></div>
      <h2>Job graph</h2>
      <div class="legend">colour by the busiest subtask: <span style="background:${colour(0, 0)}"></span>idle
        <span style="background:${colour(1000, 0)}"></span>busy <span style="background:${colour(0, 1000)}"></span>backpressured</div>
      <div id="graph"></div>
      <h2 id="subtasks-title">Subtasks</h2>
      <div id="subtasks"></div>
      <h2>Watermarks</h2>
      <div id="watermarks"></div>
      <h2>Checkpoints</h2>
      <div id="checkpoints"></div>
      <h2>Exceptions</h2>
      <div id="exceptions"></div>
      <h2>Output (last lines of print sinks)</h2>
      <pre id="output"></pre>
      <h2>SQL</h2>
      <pre id="job-sql"></pre>
      <h2>Plan</h2>
      <pre id="job-plan"></pre>`;
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
  }
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
  renderGraph(current, job);
  await renderSubtasks(current, job, id);
  renderWatermarks(watermarks);
  renderCheckpoints(checkpoints);
  if (current.exceptionCount !== exceptions["exception-history"].length) {
    current.exceptionCount = exceptions["exception-history"].length;
    renderExceptions(exceptions);
  }
  document.getElementById("output").textContent = job.output.join("\n");
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

// Flink's colouring: from idle blue towards red as the busiest subtask's busy share grows; grey to black when
// backpressure dominates.
function colour(busy, backpressured) {
  const mix = (a, b, t) => a.map((x, i) => Math.round(x + (b[i] - x) * t));
  const rgb = (c) => `rgb(${c.join(",")})`;
  if (backpressured > busy) return rgb(mix([225, 225, 225], [60, 60, 60], Math.min(1, backpressured / 1000)));
  return rgb(mix([214, 232, 250], [219, 68, 55], Math.min(1, busy / 1000)));
}

function renderGraph(current, job) {
  const vertices = job.vertices;
  const byId = new Map(vertices.map((v) => [v.id, v]));
  const layer = new Map();
  const depth = (v) => {
    if (layer.has(v.id)) return layer.get(v.id);
    layer.set(v.id, 0);
    const d = v.inputs.length === 0 ? 0 : 1 + Math.max(...v.inputs.map((i) => depth(byId.get(i))));
    layer.set(v.id, d);
    return d;
  };
  vertices.forEach(depth);
  const W = 250, H = 92, GX = 70, GY = 24, PAD = 16;
  const rows = new Map();
  const pos = new Map();
  for (const v of vertices) {
    const d = layer.get(v.id);
    const r = rows.get(d) ?? 0;
    rows.set(d, r + 1);
    pos.set(v.id, { x: PAD + d * (W + GX), y: PAD + r * (H + GY) });
  }
  const width = PAD * 2 + (Math.max(...layer.values()) + 1) * (W + GX) - GX;
  const height = PAD * 2 + Math.max(...rows.values()) * (H + GY) - GY;
  if (!current.selected || !byId.has(current.selected)) current.selected = vertices[0]?.id;
  let svg = `<svg width="${width}" height="${height}" xmlns="http://www.w3.org/2000/svg">
    <defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
      <path d="M 0 0 L 10 5 L 0 10 z" fill="#8792a2"/></marker></defs>`;
  for (const v of vertices) {
    for (const i of v.inputs) {
      const a = pos.get(i), b = pos.get(v.id);
      const x1 = a.x + W, y1 = a.y + H / 2, x2 = b.x, y2 = b.y + H / 2;
      svg += `<path class="edge" marker-end="url(#arrow)" d="M ${x1} ${y1} C ${x1 + GX / 2} ${y1}, ${x2 - GX / 2} ${y2}, ${x2} ${y2}"/>`;
    }
  }
  for (const v of vertices) {
    const p = pos.get(v.id), m = v.metrics;
    const fill = colour(m["busy-time-ms-per-second"], m["back-pressured-time-ms-per-second"]);
    const dark = m["busy-time-ms-per-second"] > 600 || m["back-pressured-time-ms-per-second"] > 600;
    const ink = dark ? "#fff" : "#1d2430";
    const title = v.name.length > 30 ? v.name.slice(0, 29) + "…" : v.name;
    svg += `<g class="vertex${v.id === current.selected ? " selected" : ""}" data-id="${esc(v.id)}" transform="translate(${p.x},${p.y})">
      <title>${esc(v.name)}</title>
      <rect width="${W}" height="${H}" fill="${fill}"/>
      <text x="10" y="18" fill="${ink}" font-weight="600">${esc(title)}</text>
      <text x="10" y="36" fill="${ink}">parallelism ${v.parallelism} · busy ${m["busy-time-ms-per-second"] / 10}% · bp ${m["back-pressured-time-ms-per-second"] / 10}%</text>
      <text x="10" y="54" fill="${ink}" class="rates">in ${num(m["records-in-per-second"])}/s · out ${num(m["records-out-per-second"])}/s</text>
      <text x="10" y="72" fill="${ink}" class="totals">records in ${num(m["read-records"])} · out ${num(m["write-records"])}</text>
      <text x="10" y="88" fill="${ink}" font-size="11">watermark ${esc(watermark(m.watermark))}</text>
    </g>`;
  }
  svg += "</svg>";
  const graph = document.getElementById("graph");
  graph.innerHTML = svg;
  graph.querySelectorAll(".vertex").forEach((g) => g.addEventListener("click", () => {
    current.selected = g.dataset.id;
    renderGraph(current, job);
  }));
}

async function renderSubtasks(current, job, id) {
  const vertex = job.vertices.find((v) => v.id === current.selected);
  if (!vertex) return;
  const data = await api(`jobs/${id}/vertices/${encodeURIComponent(vertex.id)}/subtasks/metrics`);
  if (current !== page) return;
  document.getElementById("subtasks-title").textContent = `Subtasks of ${vertex.name}`;
  document.getElementById("subtasks").innerHTML = `<table id="subtask-table"><tr><th>#</th><th class="num">Records in</th><th class="num">Records out</th>
    <th class="num">In/s</th><th class="num">Out/s</th><th class="num">Bytes in</th><th class="num">Busy ‰</th><th class="num">Idle ‰</th>
    <th class="num">Backpressured ‰</th><th class="num">Queue</th><th>Watermark</th><th class="num">Late dropped</th><th>Last data</th></tr>
    ${data.subtasks.map((s) => `<tr><td>${s.subtask + 1}</td><td class="num">${num(s["records-in"])}</td><td class="num">${num(s["records-out"])}</td>
      <td class="num">${num(s["records-in-per-second"])}</td><td class="num">${num(s["records-out-per-second"])}</td><td class="num">${num(s["bytes-in"])}</td>
      <td class="num">${s["busy-time-ms-per-second"]}</td><td class="num">${s["idle-time-ms-per-second"]}</td><td class="num">${s["back-pressured-time-ms-per-second"]}</td>
      <td class="num">${Math.round(s["queue-fill"] * 100)}%</td><td>${esc(watermark(s.watermark))}${s.idle ? " (idle)" : ""}</td>
      <td class="num">${num(s["late-records-dropped"])}</td><td>${s["ms-since-last-record"] == null ? "never" : duration(s["ms-since-last-record"]) + " ago"}</td></tr>`).join("")}</table>`;
}

function renderWatermarks(data) {
  document.getElementById("watermarks").innerHTML = `<table id="watermark-table"><tr><th>Vertex</th><th>Subtask</th><th>Watermark</th><th>Idle</th><th>Last data</th><th>Splits (partition: watermark)</th></tr>
    ${data.vertices.map((v) => v.subtasks.map((s) => `<tr><td>${s.subtask === 0 ? esc(v.name) : ""}</td><td>${s.subtask + 1}</td>
      <td>${esc(watermark(s.watermark))}</td><td>${s.idle ? "idle" : ""}</td>
      <td>${s["ms-since-last-record"] == null ? "never" : duration(s["ms-since-last-record"]) + " ago"}</td>
      <td>${(s.splits || []).map((x) => `${esc(x.name)}: ${esc(watermark(x.watermark))}${x.idle ? " (idle)" : ""}${x["last-data-time"] == null ? " (no data)" : ""}`).join("<br>")}</td></tr>`).join("")).join("")}</table>`;
}

function renderCheckpoints(data) {
  const c = data.config, n = data.counts, latest = data.latest;
  const entry = (label, h) => h ? `<li>${label}: #${h.id} ${esc(h.status)} at ${time(h["trigger-timestamp"])}${h["external-path"] ? ` — <code>${esc(h["external-path"])}</code>` : ""}${h["failure-message"] ? ` — ${esc(h["failure-message"])}` : ""}</li>` : "";
  const restored = latest.restored ? `<li>restored: ${latest.restored["is-savepoint"] ? "savepoint" : "checkpoint"} #${latest.restored.id} — <code>${esc(latest.restored["external-path"] || "")}</code></li>` : "";
  const summary = `<p id="checkpoint-counts">${n.total} triggered · ${n.completed} completed · ${n["in-progress"]} in progress · ${n.failed} failed · ${n.restored} restored</p>
    <ul>${entry("latest completed", latest.completed)}${entry("latest savepoint", latest.savepoint)}${entry("latest failed", latest.failed)}${restored}</ul>`;
  const operators = (h) => Object.entries(h["state-size-per-operator"] || {}).map(([k, v]) => `${esc(k)}: ${num(v)} B`).join("<br>");
  const history = data.history.length === 0 ? `<p class="muted">No checkpoints recorded.</p>` : `<table id="checkpoint-table"><tr><th>ID</th><th>Status</th><th>Triggered</th>
    <th class="num">Duration</th><th class="num">Alignment</th><th class="num">Sync / async</th><th class="num">State size</th><th>Per operator</th><th>Path / failure</th></tr>${data.history.slice(0, 20).map((h) => `<tr>
    <td>${h.id}${h["is-savepoint"] ? " (savepoint)" : ""}</td><td>${esc(h.status)}</td><td>${time(h["trigger-timestamp"])}</td>
    <td class="num">${duration(h["end-to-end-duration"])}</td><td class="num">${duration(h["alignment-duration"])}</td>
    <td class="num">${duration(h["sync-duration"])} / ${duration(h["async-duration"])}</td>
    <td class="num">${num(h["state-size"])} B</td><td>${operators(h)}</td><td>${esc(h["failure-message"] || h["external-path"] || "")}</td></tr>`).join("")}</table>`;
  document.getElementById("checkpoints").innerHTML = `<p class="muted">${esc(c.message)}</p>${summary}${history}`;
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
