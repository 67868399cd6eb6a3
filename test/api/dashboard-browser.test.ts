/**
 * The dashboard in a real browser: Debian's Chromium, driven by playwright-core, loads
 * `GET /dashboard` from the local HTTP server (the real router and handlers, over the Upstash REST
 * stand-in) and is used as a person would — sign in, switch tabs, look up a job, replay a dead
 * letter, answer a worker's question. What test/api/dashboard.test.ts cannot show without a
 * browser: that Chromium runs the inline script and style under the page's CSP (no violation), that
 * real DOM events reach the handlers, and that hostile job data stays text (no element, no dialog).
 *
 * `.ci/run` installs Chromium (`apt-get install -y chromium`). Elsewhere the file is skipped, with
 * a notice, when no Chromium is found (set CHROMIUM_PATH to use another build); under CI=true a
 * missing Chromium fails it.
 */
import { existsSync } from "node:fs";
import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WorkerRegistry } from "../../packages/core/src/index.ts";
import { startHttpApi, type HttpApiHandle } from "../../packages/local/src/http-server.ts";
import { dispatch } from "../../functions/_lib/router.ts";
import { openPort } from "../support/engines.ts";
import { call, configureApiEnv, createKey } from "./support.ts";

const CANDIDATES = [process.env["CHROMIUM_PATH"], "/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"];
const executablePath = CANDIDATES.find((p): p is string => typeof p === "string" && p !== "" && existsSync(p));
if (!executablePath && process.env["CI"] === "true") {
  throw new Error("Chromium not found: .ci/run installs it (apt-get install -y chromium); or set CHROMIUM_PATH");
}
if (!executablePath) console.warn("dashboard-browser.test.ts skipped: no Chromium (apt-get install -y chromium, or set CHROMIUM_PATH)");

/** Hostile text as an attacker would put it in job data: markup, an event handler, every quote. */
const H = `<img src=x onerror=alert(1)>"'\`x`;

const K = { producer: "", worker: "", controller: "", admin: "" };
let server: HttpApiHandle;
let browser: Browser;
let requestId = "";

/** What went wrong in the page: console errors, uncaught exceptions, CSP violations, dialogs. */
interface Trouble {
  errors: string[];
  violations: string[];
  dialogs: string[];
}

async function openDashboard(): Promise<{ page: Page; trouble: Trouble }> {
  const page = await browser.newPage();
  page.setDefaultTimeout(8_000); // a step that cannot happen fails with its selector, well inside the test's timeout
  const trouble: Trouble = { errors: [], violations: [], dialogs: [] };
  page.on("console", (m) => {
    if (m.type() === "error") trouble.errors.push(m.text());
  });
  page.on("pageerror", (e) => trouble.errors.push(String(e)));
  page.on("dialog", (d) => {
    trouble.dialogs.push(`${d.type()}: ${d.message()}`);
    // the page asks before cancelling or purging: accept those, nothing else may open a dialog
    void (d.type() === "confirm" ? d.accept() : d.dismiss());
  });
  // Registered before the page's own script runs (CDP injection is not subject to the page's CSP).
  await page.addInitScript({
    content: `window.__violations = [];
      document.addEventListener("securitypolicyviolation", (e) => window.__violations.push(e.violatedDirective + " " + e.blockedURI));`,
  });
  const res = await page.goto(`${server.url}/dashboard`);
  expect(res?.status()).toBe(200);
  return { page, trouble };
}

/** Evaluates a browser expression in the page (a string: this project compiles without the DOM types). */
function inPage<T = unknown>(page: Page, expression: string): Promise<T> {
  return page.evaluate(expression) as Promise<T>;
}

/** Opens the dashboard in a new page, runs `use` on it, and closes the page whatever happens. */
async function withDashboard(use: (page: Page, trouble: Trouble) => Promise<void>): Promise<void> {
  const { page, trouble } = await openDashboard();
  try {
    await use(page, trouble);
  } finally {
    await page.close();
  }
}

async function signIn(page: Page, key: string): Promise<void> {
  await page.fill("#key-input", key);
  await page.click("#key-form button[type=submit]");
}

/**
 * No CSP violation, no error, no dialog but the page's own confirms, no element from job data.
 * `refused`: statuses of requests the test made fail on purpose; Chromium logs each as a failed
 * resource load, which is the only error allowed.
 */
async function expectClean(page: Page, trouble: Trouble, refused: number[] = []): Promise<void> {
  trouble.violations.push(...(await inPage<string[]>(page, "window.__violations")));
  expect(trouble.violations).toEqual([]);
  const expected = (e: string) => refused.some((status) => e.startsWith(`Failed to load resource: the server responded with a status of ${status} `));
  expect(trouble.errors.filter((e) => !expected(e))).toEqual([]);
  expect(trouble.dialogs.filter((d) => !d.startsWith("confirm: "))).toEqual([]);
  // hostile data never became an element
  expect(await page.locator("main img").count()).toBe(0);
}

describe.skipIf(!executablePath)("the dashboard in Chromium", () => {
  beforeAll(async () => {
    const env = configureApiEnv();
    K.admin = env.adminKey;
    K.producer = await createKey(K.admin, "web-producer", ["producer"]);
    K.worker = await createKey(K.admin, "web-pool", ["worker"]);
    K.controller = await createKey(K.admin, "web-lead", ["controller"]);

    // a dead letter with a hostile error, a job whose worker asks a hostile question, a pending hostile job
    await call("enqueue", { key: K.producer, body: { id: "web-dead", type: `build${H}`, payload: { note: H }, maxRetries: 0 } });
    const c1 = await call("claim", { key: K.worker, body: { workerId: "proc-1" } });
    expect(c1.body.job.id).toBe("web-dead");
    const failed = await call("fail", {
      key: K.worker,
      params: { id: "web-dead" },
      body: { token: c1.body.lease.token, error: { name: "RepoGone", message: `repository ${H} missing` }, retryable: false },
    });
    expect(failed.body.outcome).toBe("dead_lettered");
    await call("enqueue", { key: K.producer, body: { id: "web-dead2", payload: {}, maxRetries: 0 } });
    const c0 = await call("claim", { key: K.worker, body: { workerId: "proc-1" } });
    expect(c0.body.job.id).toBe("web-dead2");
    await call("fail", { key: K.worker, params: { id: "web-dead2" }, body: { token: c0.body.lease.token, error: { name: "DiskFull", message: "no space left" }, retryable: false } });
    await call("enqueue", { key: K.producer, body: { id: "web-ask", payload: {} } });
    const c2 = await call("claim", { key: K.worker, body: { workerId: "proc-2" } });
    const ask = await call("askQuestion", {
      key: K.worker,
      params: { id: "web-ask" },
      body: { token: c2.body.lease.token, request_type: "question", message: `Which branch, ${H}?`, context: { file: H } },
    });
    expect(ask.status, JSON.stringify(ask.body)).toBe(201);
    requestId = ask.body.id as string;
    await call("enqueue", { key: K.producer, body: { id: "web-pending", payload: { prompt: H } } });
    await call("enqueue", { key: K.producer, body: { id: "web-cancel", payload: {} } });
    const registry = new WorkerRegistry({ redis: openPort("upstash"), keys: env.prefix });
    await registry.beat({ workerId: "web-pool:proc-2", state: "busy", queues: ["default"], permissionLevels: ["autonomous"], concurrency: 2,
      activeJobs: 1, jobsProcessed: 3, jobsFailed: 1, startedAt: Date.now() - 60_000, host: `host${H}`, pid: 4242 });

    server = await startHttpApi({ dispatch });
    // small /dev/shm in containers: Chromium then uses /tmp for its shared memory
    browser = await chromium.launch({ executablePath: executablePath!, args: ["--disable-dev-shm-usage"] });
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it("runs under its CSP: signs in, shows queues and workers, no violation, no error", async () => {
    await withDashboard(async (page, trouble) => {
      await expect.poll(() => page.isVisible("#key-panel")).toBe(true);
      expect(await page.isVisible("#tabs")).toBe(false);
      await signIn(page, K.admin);
      await page.waitForSelector("#queues table");
      expect(await page.isVisible("#key-panel")).toBe(false);
      const row = page.locator("#queues tr", { has: page.locator('th:text-is("default")') });
      // web-pending and web-cancel wait; web-ask is started; web-dead and web-dead2 are in the DLQ
      const cells = await row.locator("td").allTextContents();
      expect(cells.slice(0, 2)).toEqual(["2", "1"]);
      expect(cells[6]).toBe("2");

      await page.click('#tabs button[data-tab="workers"]');
      await page.waitForSelector("#workers table");
      expect(await page.isVisible("#view-queues")).toBe(false);
      expect(await page.locator("#workers").textContent()).toContain(`host${H}`);
      await expectClean(page, trouble);

      // the CSP is in force: markup that got into the page anyway can neither load nor run anything
      await inPage(page, `document.getElementById("workers").insertAdjacentHTML("beforeend", '<img id="probe" src="/x.png" onerror="window.__ran = 1">')`);
      await expect.poll(() => inPage<string[]>(page, "window.__violations")).toEqual(expect.arrayContaining([expect.stringMatching(/^img-src /), expect.stringMatching(/^script-src-attr /)]));
      expect(await inPage(page, "window.__ran === undefined")).toBe(true);
    });
  });

  it("keeps the key out of URLs and storage other than this tab's session", async () => {
    await withDashboard(async (page, trouble) => {
      const urls: string[] = [];
      page.on("request", (r) => urls.push(r.url()));
      await signIn(page, K.controller);
      await page.waitForSelector("#queues table");
      const secret = K.controller.split("_").slice(2).join("_"); // ws_<id>_<secret>; the secret may hold "_"
      expect(secret.length).toBeGreaterThan(20);
      expect(urls.some((u) => u.includes("/v1/stats"))).toBe(true);
      for (const u of urls) expect(u).not.toContain(secret);
      expect(await inPage(page, 'sessionStorage.getItem("workstream.apiKey")')).toBe(K.controller);
      expect(await inPage(page, "localStorage.length")).toBe(0);
      expect(await inPage(page, "document.cookie")).toBe("");
      await expectClean(page, trouble);
    });
  });

  it("lists a queue's jobs from the queues table's counts, pages them and opens one", async () => {
    await withDashboard(async (page, trouble) => {
      await signIn(page, K.controller);
      await page.waitForSelector("#queues table");
      await page.click('#queues button[data-action="jobs-queue"][data-queue="default"][data-state="pending"]');
      await page.waitForSelector("#jobs table");
      expect(await page.isVisible("#view-jobs")).toBe(true);
      expect(await page.inputValue('#jobs-filters select[name="state"]')).toBe("pending");
      expect(await page.locator("#jobs tbody tr button.mono").allTextContents()).toEqual(["web-pending", "web-cancel"]);

      // the failed list through the form: the dead letters, hostile error text as text
      await page.selectOption('#jobs-filters select[name="state"]', "failed");
      await page.click("#jobs-filters button[type=submit]");
      await expect.poll(() => page.locator("#jobs tbody tr button.mono").allTextContents()).toEqual(["web-dead2", "web-dead"]);
      expect(await page.locator("#jobs tbody tr td.error").allTextContents()).toContain(`RepoGone: repository ${H} missing`);

      await page.click('#jobs button[data-action="open-job"][data-id="web-dead"]');
      await page.waitForSelector("#job .job");
      expect(await page.locator("#job h3 code").textContent()).toBe("web-dead");
      await expectClean(page, trouble);
    });
  });

  it("pages a long list, following the list it started on even when the form changed since", async () => {
    const jobs = Array.from({ length: 52 }, (_, i) => ({ id: `bulk-${String(i).padStart(2, "0")}`, queue: "low_priority", payload: {} }));
    expect((await call("enqueueBatch", { key: K.producer, body: { jobs } })).status).toBe(201);
    await withDashboard(async (page, trouble) => {
      const lists: string[] = [];
      page.on("request", (r) => {
        if (r.url().includes("/v1/jobs?")) lists.push(new URL(r.url()).searchParams.get("state") ?? "");
      });
      await signIn(page, K.controller);
      await page.click('#tabs button[data-tab="jobs"]');
      await page.fill('#jobs-filters input[name="queue"]', "low_priority");
      await page.click("#jobs-filters button[type=submit]");
      await page.waitForSelector('#jobs button[data-action="jobs-next"]');
      expect(await page.locator("#jobs tbody tr").count()).toBe(50);
      await page.selectOption('#jobs-filters select[name="state"]', "failed"); // changed, not submitted
      await page.click('#jobs button[data-action="jobs-next"]');
      await expect.poll(() => page.locator("#jobs tbody tr button.mono").allTextContents()).toEqual(["bulk-50", "bulk-51"]);
      await page.click('#jobs button[data-action="jobs-first"]');
      await expect.poll(() => page.locator("#jobs tbody tr").count()).toBe(50);
      expect(lists).toEqual(["pending", "pending", "pending"]);
      await expectClean(page, trouble);
    });
  });

  it("looks up a job and shows hostile payload and type as text", async () => {
    await withDashboard(async (page, trouble) => {
      await signIn(page, K.controller);
      await page.click('#tabs button[data-tab="jobs"]');
      await page.fill("#job-id", "web-pending");
      await page.click("#job-form button[type=submit]");
      await page.waitForSelector("#job .job");
      expect(await page.locator("#job h3 code").textContent()).toBe("web-pending");
      expect(await page.locator("#job pre").last().textContent()).toContain(JSON.stringify(H).slice(1, -1));

      await page.fill("#job-id", "no-such-job");
      await page.click("#job-form button[type=submit]");
      await expect.poll(() => page.locator("#job-status").textContent()).toMatch(/^job_not_found: /);
      expect(await page.locator("#job").innerHTML()).toBe("");
      await expectClean(page, trouble, [404]);
    });
  });

  it("lists the dead letter with its hostile error as text, inspects it and replays it", async () => {
    await withDashboard(async (page, trouble) => {
      await signIn(page, K.admin); // purging needs admin
      await page.waitForSelector("#queues table");
      // the queues table's DLQ count links to the DLQ view filtered by that queue
      await page.click('#queues button[data-action="dlq-queue"]');
      await page.waitForSelector("#dlq table");
      expect(await page.isVisible("#view-dlq")).toBe(true);
      const rows = page.locator("#dlq tbody tr");
      expect(await rows.count()).toBe(2);
      const row = rows.filter({ has: page.locator('code:text-is("web-dead")') });
      expect(await row.locator("td.error").textContent()).toBe(`RepoGone: repository ${H} missing`);

      await row.locator('button[data-action="dlq-inspect"]').click();
      await page.waitForSelector("#dlq-detail .job");
      expect(await page.locator("#dlq-detail .errbox").textContent()).toContain(`repository ${H} missing`);

      await page.click('#dlq-detail button[data-action="dlq-replay-one"]');
      await expect.poll(() => page.locator("#dlq-status").textContent()).toContain("web-dead: replayed");
      const job = await call("getJob", { key: K.controller, params: { id: "web-dead" } });
      expect(job.body.status).toBe("pending");
      await expect.poll(() => rows.count()).toBe(1);

      // purge asks first (accepted by the dialog handler), then says so over the reloaded list
      await rows.first().locator('button[data-action="dlq-purge"]').click();
      await expect.poll(() => page.locator("#dlq-status").textContent()).toBe("Purged web-dead2.");
      expect(trouble.dialogs).toEqual(["confirm: Delete dead-lettered job web-dead2 for good?"]);
      // still filtered by the queue the link came from
      expect(await page.inputValue('#dlq-filters input[name="queue"]')).toBe("default");
      expect(await page.locator("#dlq").textContent()).toContain("No dead-lettered jobs match these filters.");
      expect((await call("dlqShow", { key: K.controller, params: { id: "web-dead2" } })).status).toBe(404);
      await expectClean(page, trouble);
    });
  });

  it("cancels a job after asking, and says so over the reloaded record", async () => {
    await withDashboard(async (page, trouble) => {
      await signIn(page, K.admin); // cancelling needs producer or admin
      await page.click('#tabs button[data-tab="jobs"]');
      await page.fill("#job-id", "web-cancel");
      await page.press("#job-id", "Enter");
      await page.click('#job button[data-action="job-cancel"]');
      await expect.poll(() => page.locator("#job-status").textContent()).toBe("Cancelled (was pending).");
      expect(await page.locator("#job h3 .badge").textContent()).toBe("cancelled");
      expect(await page.locator('#job button[data-action="job-cancel"]').count()).toBe(0);
      expect(trouble.dialogs).toEqual(["confirm: Cancel job web-cancel?"]);
      expect((await call("getJob", { key: K.controller, params: { id: "web-cancel" } })).body.status).toBe("cancelled");
      await expectClean(page, trouble);
    });
  });

  it("shows recurring schedules under the queues and deletes one after asking", async () => {
    expect((await call("schedulesPut", { key: K.producer, body: { name: "web-nightly", cron: "0 2 * * *", job: { type: `report${H}`, payload: {} } } })).status).toBe(201);
    await withDashboard(async (page, trouble) => {
      await signIn(page, K.admin);
      const row = page.locator("#schedules tbody tr");
      await row.first().waitFor();
      expect(await row.locator("td").allTextContents()).toEqual(expect.arrayContaining(["web-nightly", "0 2 * * *", `report${H} · priority normal`]));
      await row.locator('button[data-action="schedule-delete"]').click();
      await expect.poll(() => page.locator("#schedules-status").textContent()).toBe("Deleted web-nightly.");
      expect(await page.locator("#schedules").textContent()).toContain("No recurring schedules.");
      expect(trouble.dialogs).toEqual(["confirm: Delete the recurring schedule web-nightly? Jobs it already enqueued stay."]);
      expect((await call("schedulesList", { key: K.producer })).body.schedules).toEqual([]);
      await expectClean(page, trouble);
    });
  });

  it("answers a worker's question from its form", async () => {
    await withDashboard(async (page, trouble) => {
      await signIn(page, K.controller);
      await page.click('#tabs button[data-tab="questions"]');
      const card = page.locator("#questions article.question");
      await card.waitFor();
      expect(await card.locator("p.message").textContent()).toBe(`Which branch, ${H}?`);
      await card.locator('select[name="response_type"]').selectOption("instruction");
      await card.locator('textarea[name="message"]').fill("Use main");
      await card.locator('textarea[name="instructions"]').fill("rebase first\nrun the tests");
      await card.locator("button[type=submit]").click();
      await expect.poll(() => card.locator(".form-status").textContent()).toBe("Answered.");

      const answered = await call("getAnswer", { key: K.worker, params: { requestId } });
      expect(answered.body).toMatchObject({
        status: "answered",
        response: { response_type: "instruction", message: "Use main", instructions: ["rebase first", "run the tests"], generated_by: "human" },
      });
      await expectClean(page, trouble);
    });
  });

  it("refuses a bad key and signs out, keeping nothing", async () => {
    await withDashboard(async (page, trouble) => {
      await signIn(page, "ws_abcd1234_" + "x".repeat(43));
      await expect.poll(() => page.locator("#key-status").textContent()).toMatch(/^unauthorized: /);
      expect(await page.isVisible("#key-panel")).toBe(true);
      expect(await inPage(page, 'sessionStorage.getItem("workstream.apiKey")')).toBeNull();
      expect(trouble.errors.length).toBeGreaterThan(0); // the refused /v1/stats
      await expectClean(page, trouble, [401]);
    });
  });
});
