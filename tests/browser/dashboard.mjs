// Drives Eddy's dashboard in real headless Chromium (the machine's Debian package; Playwright never downloads a
// browser here) and checks one scenario. Run by tests/Eddy.Server.Tests/BrowserTests.cs against a live server:
//
//   node dashboard.mjs <scenario> <base-url> [job-id] [screenshot.png]
//
// Scenarios: overview, graph, tabs, checkpoints, charts, log, xss, diagnosis, cancel. Exit code 0 when the check holds; the reason on stderr otherwise.
import { chromium } from "playwright-core";

const [scenario, base, jobId, screenshot] = process.argv.slice(2);
const executablePath = process.env.EDDY_CHROMIUM || "/usr/bin/chromium";

function fail(message) {
  throw new Error(`${scenario}: ${message}`);
}

async function waitFor(page, what, predicate, timeoutMs = 20000) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    last = await predicate();
    if (last === true) return;
    await page.waitForTimeout(100);
  }
  fail(`${what} (last seen: ${JSON.stringify(last)})`);
}

const scenarios = {
  // The overview shows the server's slots as the API reports them, and lists the jobs.
  async overview(page) {
    const api = await (await page.request.get(new URL("overview", base).href)).json();
    await page.goto(base);
    const expected = `${api["slots-available"]} / ${api["slots-total"]}`;
    await waitFor(page, `slots card showing '${expected}'`, async () => {
      const text = await page.locator("#slots-available .value").textContent().catch(() => null);
      return text === expected || text;
    });
    await waitFor(page, "a job row", async () => (await page.locator("#job-table tr").count()) > 1);
    const label = await page.locator("#slots-available .label").textContent();
    if (!label.includes("task slots")) fail(`slots label '${label}'`);
    console.log(`overview: slots ${expected}, ${(await page.locator("#job-table tr").count()) - 1} job rows`);
  },

  // The job graph as a DAG: a box per vertex with its full name (wrapped, never cut), an arrow per edge labelled
  // with the API's exchange, and every arrow going from a layer to a later one (x grows along each edge).
  async graph(page) {
    const job = await (await page.request.get(new URL(`jobs/${jobId}`, base).href)).json();
    await page.goto(`${base}#/jobs/${jobId}`);
    await waitFor(page, `${job.vertices.length} vertex boxes`, async () => (await page.locator("#graph .vertex").count()) === job.vertices.length);
    const edges = job.vertices.flatMap((v) => v["input-edges"].map((e) => ({ from: e.id, to: v.id, strategy: e["ship-strategy"] })));
    if (edges.length !== job.vertices.reduce((n, v) => n + v.inputs.length, 0)) fail(`input-edges ${JSON.stringify(edges)} do not match the inputs`);
    const drawn = await page.locator("#graph path.edge").count();
    if (drawn !== edges.length) fail(`${drawn} arrows drawn for ${edges.length} edges`);
    const boxes = await page.evaluate(() => Object.fromEntries([...document.querySelectorAll("#graph .vertex")].map((g) => {
      const rect = g.querySelector("rect").getBBox(), m = g.getCTM();
      const lines = [...g.querySelectorAll("text.name tspan")];
      return [g.dataset.id, { x: m.e, layer: Number(g.dataset.layer), width: rect.width, name: lines.map((t) => t.textContent).join(" "),
        widest: Math.max(...lines.map((t) => t.getComputedTextLength())), title: g.querySelector("title").textContent }];
    })));
    for (const v of job.vertices) {
      const b = boxes[v.id];
      if (!b) fail(`no box for vertex ${v.id}`);
      // The whole name is there (the wrapping only adds line breaks) and no line runs past the box.
      if (b.name.replace(/\s+/g, "") !== v.name.replace(/\s+/g, "")) fail(`vertex ${v.id} shows '${b.name}', not its full name '${v.name}'`);
      if (b.title !== v.name) fail(`vertex ${v.id} tooltip '${b.title}'`);
      if (b.widest > b.width - 10) fail(`vertex ${v.id}: a name line is ${b.widest}px wide in a ${b.width}px box`);
    }
    for (const e of edges) {
      const from = boxes[e.from], to = boxes[e.to];
      if (!(to.x > from.x) || !(to.layer > from.layer)) fail(`edge ${e.from} -> ${e.to} does not go right: x ${from.x} -> ${to.x}, layer ${from.layer} -> ${to.layer}`);
      const label = await page.locator(`#graph .edge-label[data-from="${e.from}"][data-to="${e.to}"] text`).textContent();
      if (label !== e.strategy) fail(`edge ${e.from} -> ${e.to} labelled '${label}', the API says '${e.strategy}'`);
    }
    const totals = page.locator("#graph .vertex .totals").first();
    const before = await totals.textContent();
    await waitFor(page, `counts changing from '${before}'`, async () => {
      const now = await totals.textContent();
      return now !== before || now;
    }, 10000);
    const after = await totals.textContent();
    await waitFor(page, "the vertex table", async () => (await page.locator("#vertex-table tr").count()) === job.vertices.length + 1);
    // The complaint was a 6,000-pixel page: the overview tab (graph, vertex table, charts) fits about a screen.
    const tall = await page.evaluate(() => document.documentElement.scrollHeight);
    if (tall > 1800) fail(`the overview tab is ${tall} px tall`);
    console.log(`graph: ${job.vertices.length} boxes in ${new Set(Object.values(boxes).map((b) => b.layer)).size} layers, edges ${edges.map((e) => `${e.from}-${e.strategy}->${e.to}`).join(", ")}; '${before}' -> '${after}'`);
  },

  // One tab per vertex: each shows that vertex's full name and one row per subtask with the API's columns,
  // records dropped among them (0 when the API has no such field).
  async tabs(page) {
    const job = await (await page.request.get(new URL(`jobs/${jobId}`, base).href)).json();
    await page.goto(`${base}#/jobs/${jobId}`);
    await waitFor(page, "the tabs", async () => (await page.locator("#tabs .tab").count()) === job.vertices.length + 6);
    for (const v of job.vertices) {
      const tab = page.locator(`#tabs .tab[data-tab="vertex-${v.id}"]`);
      const label = (await tab.textContent()).replace(/\s+/g, " ").trim();
      if (label !== `${v.id} ${v.name}`.replace(/\s+/g, " ")) fail(`tab label '${label}' is not the full name '${v.name}'`);
      await tab.click();
      await waitFor(page, `the tab of vertex ${v.id}`, async () => {
        const title = await page.locator("#vertex-name").textContent().catch(() => null);
        return title === `${v.id}. ${v.name}` || title;
      });
      if (!(await page.locator("#graph").isHidden())) fail("the graph still shows on a vertex tab");
      await waitFor(page, `${v.parallelism} subtask rows of vertex ${v.id}`, async () => (await page.locator("#subtask-table tr").count()) === v.parallelism + 1);
      const headers = await page.locator("#subtask-table th").allTextContents();
      for (const h of ["Records in", "Records out", "Records dropped", "Backpressure", "Watermark"]) if (!headers.includes(h)) fail(`no '${h}' column: ${headers}`);
      const api = await (await page.request.get(new URL(`jobs/${jobId}/vertices/${v.id}/subtasks/metrics`, base).href)).json();
      const shown = await page.locator("#subtask-table td.dropped").allTextContents();
      const expected = api.subtasks.map((s) => (s["records-dropped"] ?? 0).toLocaleString("en-US"));
      if (JSON.stringify(shown) !== JSON.stringify(expected)) fail(`records dropped ${shown}, the API says ${expected}`);
      // Records in of a running job's vertex grow on its own tab.
      const cell = page.locator("#subtask-table tr:nth-child(2) td:nth-child(2)");
      const before = await cell.textContent();
      await waitFor(page, `records in of vertex ${v.id} growing from ${before}`, async () => ((await cell.textContent()) !== before) || before, 15000);
      // The state size: this vertex's operators' entries of the latest completed checkpoint, added up here.
      await waitFor(page, `the state size of vertex ${v.id}`, async () => {
        const latest = (await (await page.request.get(new URL(`jobs/${jobId}/checkpoints`, base).href)).json()).latest.completed;
        if (!latest) return "no completed checkpoint yet";
        const expected = Object.entries(latest["state-size-per-operator"]).filter(([k]) => v.operators.some((o) => k.endsWith(`:${o}`)))
          .reduce((n, [, b]) => n + b, 0);
        const text = expected < 1024 ? `${expected} B` : `${(expected / 1024).toFixed(1)} KiB`;
        const shown = await page.locator("#vertex-state-size").textContent().catch(() => null);
        return shown === text || `${shown} vs ${text}`;
      }, 15000);
      await waitFor(page, `the charts of vertex ${v.id}`, async () => (await page.locator("#chart-vertex-throughput polyline.series").count()) >= 2);
    }
    console.log(`tabs: ${job.vertices.length} vertex tabs, each with its subtasks`);
  },

  // Checkpoint durations in ms with min/avg/max computed here from the API's history; only the retained
  // checkpoints (the newest 'state.checkpoints.num-retained' completed ones) are listed as restorable.
  async checkpoints(page) {
    const url = new URL(`jobs/${jobId}/checkpoints`, base).href;
    const retained = Number(process.env.EDDY_RETAINED || "3");
    await page.goto(`${base}#/jobs/${jobId}/checkpoints`);
    const format = (n) => `${Math.round(n).toLocaleString("en-US")} ms`;
    await waitFor(page, "the summary matching the history", async () => {
      const data = await (await page.request.get(url)).json();
      const done = data.history.filter((h) => h.status === "COMPLETED");
      if (done.length <= retained + 1) return `${done.length} completed`;
      const d = done.map((h) => h["end-to-end-duration"]);
      const expected = [Math.min(...d), d.reduce((a, b) => a + b, 0) / d.length, Math.max(...d)].map(format);
      const row = await page.locator("#checkpoint-summary tr:nth-child(2) td").allTextContents();
      return JSON.stringify(row) === JSON.stringify(expected) || `${row} vs ${expected}`;
    }, 40000);
    await waitFor(page, "the restorable list", async () => {
      const data = await (await page.request.get(url)).json();
      const expected = data.history.filter((h) => h.status === "COMPLETED" && !h["is-savepoint"]).slice(0, retained).map((h) => String(h.id));
      const shown = await page.locator("#restorable li").evaluateAll((li) => li.map((x) => x.dataset.id));
      return JSON.stringify(shown) === JSON.stringify(expected) || `${shown} vs ${expected}`;
    });
    const durations = await page.locator("#checkpoint-table td.duration").allTextContents();
    if (durations.length === 0 || !durations.every((d) => /^[\d,]+ ms$/.test(d))) fail(`durations not in ms: ${durations}`);
    console.log(`checkpoints: ${await page.locator("#checkpoint-summary").textContent()}`);
  },

  // The charts draw the server's history: a page opened after the job has run a while shows the minutes before
  // it was opened at its first drawing, and new points arrive while it stays open.
  async charts(page) {
    const url = new URL(`jobs/${jobId}/metrics/history`, base).href;
    const deadline = Date.now() + 30000;
    let known = 0;
    while (Date.now() < deadline && (known = (await (await page.request.get(url)).json()).times.length) < 8) await page.waitForTimeout(250);
    if (known < 8) fail(`the server kept ${known} points`);
    await page.goto(`${base}#/jobs/${jobId}`);
    const points = (chart) => page.locator(`#${chart} polyline.series`).evaluateAll((p) => p.reduce((n, x) => Math.max(n, Number(x.dataset.points)), 0));
    await waitFor(page, "the throughput chart", async () => (await page.locator("#chart-throughput").count()) === 1);
    const first = await points("chart-throughput");
    if (first < known) fail(`the first drawing shows ${first} points; the server had ${known} before the page opened`);
    await waitFor(page, "more points", async () => (await points("chart-throughput")) > first || first, 15000);
    for (const chart of ["chart-watermark-lag", "chart-backpressure"]) {
      if ((await points(chart)) < known) fail(`${chart}: ${await points(chart)} points`);
    }
    await waitFor(page, "checkpoint dots", async () => (await page.locator("#chart-checkpoints circle.dot").count()) >= 2, 30000);
    // The points run left to right in time.
    const xs = await page.locator("#chart-throughput polyline.series").first().evaluate((p) => p.getAttribute("points").split(" ").map((xy) => Number(xy.split(",")[0])));
    if (!xs.every((x, i) => i === 0 || x > xs[i - 1])) fail(`x not increasing: ${xs}`);
    console.log(`charts: ${first} points at first, then ${await points("chart-throughput")}`);
  },

  // The server's log tail shows the submission of a known job.
  async log(page) {
    await page.goto(`${base}#/log`);
    await waitFor(page, "the submission line in the log", async () => {
      const text = await page.locator("#server-log").textContent();
      return text.includes(`(${jobId}) submitted`) || text;
    });
    console.log(`log: ${(await page.locator("#server-log-info").textContent())}`);
  },

  // Markup in a job's name and its tables' names shows as text on every page and tab; nothing runs.
  async xss(page) {
    const job = await (await page.request.get(new URL(`jobs/${jobId}`, base).href)).json();
    for (const hash of ["#/", "#/log", `#/jobs/${jobId}`, `#/jobs/${jobId}/vertex-1`, `#/jobs/${jobId}/checkpoints`, `#/jobs/${jobId}/sql`]) {
      await page.goto(`${base}${hash}`);
      await page.waitForTimeout(1200);
      if (await page.evaluate(() => window.__xss)) fail(`a script in the job name ran on ${hash}`);
      if ((await page.locator("#app img, #app script, [onerror], [onload]").count()) > 0) fail(`markup from the job became elements on ${hash}`);
    }
    await page.goto(`${base}#/`);
    await waitFor(page, "the job name as text", async () => (await page.locator("#job-table").textContent()).includes(job.name));
    await page.goto(`${base}#/jobs/${jobId}/vertex-1`);
    await waitFor(page, "the vertex name as text", async () => (await page.locator("#vertex-name").textContent().catch(() => "")) === `1. ${job.vertices[0].name}`);
    if (!job.vertices[0].name.includes("<img")) fail(`the vertex name '${job.vertices[0].name}' has no markup to test`);
    console.log(`xss: '${job.name}' shown as text`);
  },

  // A stalled window job: the page says which source subtask holds the watermark and what to set; the source's tab
  // has the watermark per split.
  async diagnosis(page) {
    await page.goto(`${base}#/jobs/${jobId}`);
    await waitFor(page, "the diagnosis text", async () => {
      const text = await page.locator("#diagnosis").textContent();
      return (text.includes("windows close when the watermark passes") && text.includes("source subtask 2 of 2")
        && text.includes("table.exec.source.idle-timeout")) || text;
    });
    await page.locator('#tabs .tab[data-tab="vertex-1"]').click();
    await waitFor(page, "the watermark table", async () => (await page.locator("#watermark-table tr").count()) > 1);
    await page.locator('#tabs .tab[data-tab="overview"]').click();
    await waitFor(page, "the graph again", async () => await page.locator("#graph").isVisible());
    console.log(`diagnosis: ${await page.locator("#diagnosis").textContent()}`);
  },

  // The cancel button stops a running job; the page then shows CANCELED.
  async cancel(page) {
    await page.goto(`${base}#/jobs/${jobId}`);
    await waitFor(page, "the job RUNNING", async () => (await page.locator("#job-state").textContent()) === "RUNNING");
    await page.locator("#cancel").click();
    await waitFor(page, "the job CANCELED", async () => {
      const state = await page.locator("#job-state").textContent();
      return state === "CANCELED" || state;
    });
    if (!(await page.locator("#cancel").isDisabled())) fail("the cancel button is still enabled");
    console.log("cancel: CANCELED");
  },
};

const run = scenarios[scenario];
if (!run) {
  console.error(`unknown scenario '${scenario}': one of ${Object.keys(scenarios).join(", ")}`);
  process.exit(2);
}
const browser = await chromium.launch({
  executablePath,
  headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
let code = 0;
try {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  const errors = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await run(page);
  if (errors.length > 0) fail(`script errors on the page: ${errors.join("; ")}`);
  if (screenshot) await page.screenshot({ path: screenshot, fullPage: true });
} catch (e) {
  console.error(e.message);
  code = 1;
} finally {
  await browser.close();
}
process.exit(code);
