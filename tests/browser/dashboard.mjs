// Drives Eddy's dashboard in real headless Chromium (the machine's Debian package; Playwright never downloads a
// browser here) and checks one scenario. Run by tests/Eddy.Server.Tests/BrowserTests.cs against a live server:
//
//   node dashboard.mjs <scenario> <base-url> [job-id] [screenshot.png]
//
// Scenarios: overview, graph, diagnosis, cancel. Exit code 0 when the check holds; the reason on stderr otherwise.
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

  // A running job's graph has a box per vertex, with arrows, and its record counts change while we watch.
  async graph(page) {
    const job = await (await page.request.get(new URL(`jobs/${jobId}`, base).href)).json();
    await page.goto(`${base}#/jobs/${jobId}`);
    await waitFor(page, `${job.vertices.length} vertex boxes`, async () => (await page.locator("#graph .vertex").count()) === job.vertices.length);
    const edges = job.vertices.reduce((n, v) => n + v.inputs.length, 0);
    const drawn = await page.locator("#graph path.edge").count();
    if (drawn !== edges) fail(`${drawn} arrows drawn for ${edges} edges`);
    const names = await page.locator("#graph .vertex title").allTextContents();
    for (const v of job.vertices) if (!names.includes(v.name)) fail(`no box for vertex '${v.name}' (boxes: ${names})`);
    const totals = page.locator("#graph .vertex .totals").first();
    const before = await totals.textContent();
    await waitFor(page, `counts changing from '${before}'`, async () => {
      const now = await totals.textContent();
      return now !== before || now;
    }, 10000);
    const after = await totals.textContent();
    await waitFor(page, "subtask rows", async () => (await page.locator("#subtask-table tr").count()) > 1);
    console.log(`graph: ${job.vertices.length} boxes, ${edges} arrows; '${before}' -> '${after}'`);
  },

  // A stalled window job: the page says which source subtask holds the watermark and what to set.
  async diagnosis(page) {
    await page.goto(`${base}#/jobs/${jobId}`);
    await waitFor(page, "the diagnosis text", async () => {
      const text = await page.locator("#diagnosis").textContent();
      return (text.includes("windows close when the watermark passes") && text.includes("source subtask 2 of 2")
        && text.includes("table.exec.source.idle-timeout")) || text;
    });
    await waitFor(page, "the watermark table", async () => (await page.locator("#watermark-table tr").count()) > 1);
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
