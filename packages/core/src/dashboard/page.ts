/**
 * The web dashboard: one self-contained HTML page (inline CSS and vanilla JS, no external
 * resources, no build step) served by `GET /dashboard` (functions/http/dashboard.ts). The page
 * holds no data and needs no key; it asks its user for an API key and calls the /v1 API on the
 * same origin with it, so every view shows only what that key's roles may read.
 *
 * Its Content-Security-Policy allows nothing but this page's own script and stylesheet — by their
 * SHA-256, computed here at module load, so no 'unsafe-inline' — and fetches to 'self'. Job data
 * (ids, errors, payloads, questions) is attacker-controllable: the script escapes every value it
 * renders (see script.ts); the CSP is the second line of defence.
 */
import { createHash } from "node:crypto";
import { DASHBOARD_SCRIPT } from "./script.ts";
import { DASHBOARD_STYLE } from "./style.ts";

export { DASHBOARD_SCRIPT } from "./script.ts";
export { DASHBOARD_STYLE } from "./style.ts";

/** A CSP source for an inline element's exact text: 'sha256-<base64>'. */
export function cspHash(text: string): string {
  return `'sha256-${createHash("sha256").update(text, "utf8").digest("base64")}'`;
}

// The texts go into the page verbatim: they must not be able to end their element early.
for (const [name, text] of [["script", DASHBOARD_SCRIPT], ["style", DASHBOARD_STYLE]] as const) {
  if (/<\/(?:script|style)|<!--|<script/i.test(text)) throw new Error(`dashboard ${name}: contains a sequence that would end or confuse its element`);
}

export const DASHBOARD_CSP = [
  "default-src 'none'",
  `script-src ${cspHash(DASHBOARD_SCRIPT)}`,
  `style-src ${cspHash(DASHBOARD_STYLE)}`,
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

export const DASHBOARD_HEADERS: Readonly<Record<string, string>> = {
  "content-type": "text/html; charset=utf-8",
  "content-security-policy": DASHBOARD_CSP,
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "x-frame-options": "DENY",
  "cross-origin-opener-policy": "same-origin",
  "cross-origin-resource-policy": "same-origin",
  "permissions-policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
  "cache-control": "no-store",
};

const VIEWS = [
  ["queues", "Queues"],
  ["workers", "Workers"],
  ["jobs", "Jobs"],
  ["dlq", "Dead letters"],
  ["questions", "Worker questions"],
] as const;

export const DASHBOARD_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Workstream dashboard</title>
<style>${DASHBOARD_STYLE}</style>
</head>
<body>
<header class="top">
  <h1>Workstream</h1>
  <nav id="tabs" aria-label="Views" hidden>
    ${VIEWS.map(([id, label]) => `<button type="button" data-action="tab" data-tab="${id}" aria-selected="false">${label}</button>`).join("\n    ")}
  </nav>
  <button type="button" id="sign-out" data-action="sign-out" hidden>Forget key</button>
</header>
<main>
<section id="key-panel" class="panel">
  <h2>API key</h2>
  <p>The dashboard reads and acts through this deployment's <code>/v1</code> API with your key: each view
  shows what the key's roles allow (stats: any role; jobs: producer, controller, admin; dead letters and
  worker questions: controller, admin; purge and worker suspend/resume: admin). The key stays in this
  tab's session storage and is sent only in the <code>authorization</code> header.</p>
  <form id="key-form" method="post" autocomplete="off">
    <label for="key-input">API key</label>
    <input id="key-input" type="password" autocomplete="off" spellcheck="false" placeholder="ws_&lt;id&gt;_&lt;secret&gt;" required>
    <button type="submit">Open the dashboard</button>
  </form>
  <p id="key-status" class="status" role="status"></p>
</section>

<section id="view-queues" class="view" hidden>
  <div class="bar"><h2>Queues</h2><span id="stats-updated" class="muted"></span><button type="button" data-action="refresh-stats">Refresh</button></div>
  <p class="muted">Refreshed every 5 seconds while this view is open.</p>
  <p id="queues-status" class="status" role="status"></p>
  <div id="queues"></div>
  <h3>Recurring schedules</h3>
  <p id="schedules-status" class="status" role="status"></p>
  <div id="schedules"></div>
</section>

<section id="view-workers" class="view" hidden>
  <div class="bar"><h2>Workers</h2><button type="button" data-action="refresh-stats">Refresh</button></div>
  <p id="workers-status" class="status" role="status"></p>
  <div id="workers"></div>
</section>

<section id="view-jobs" class="view" hidden>
  <div class="bar"><h2>Jobs</h2></div>
  <form id="jobs-filters" method="post">
    <label>Queue <input name="queue" value="default" maxlength="64" spellcheck="false" autocomplete="off"></label>
    <label>State <select name="state"><option>pending</option><option>active</option><option>scheduled</option><option>deferred</option><option>completed</option><option>failed</option></select></label>
    <button type="submit">List</button>
  </form>
  <p id="jobs-status" class="status" role="status"></p>
  <div id="jobs"></div>
  <h3>Look up a job</h3>
  <form id="job-form" method="post">
    <label>Job id <input id="job-id" required maxlength="128" spellcheck="false" autocomplete="off"></label>
    <button type="submit">Look up</button>
  </form>
  <p id="job-status" class="status" role="status"></p>
  <div id="job"></div>
</section>

<section id="view-dlq" class="view" hidden>
  <div class="bar"><h2>Dead-letter queue</h2>
    <button type="button" id="dlq-replay-selected" data-action="dlq-replay-selected" disabled>Replay selected</button>
    <button type="button" data-action="refresh-dlq">Refresh</button></div>
  <form id="dlq-filters" method="post">
    <label>Queues <input name="queue" placeholder="default,low_priority" spellcheck="false" autocomplete="off"></label>
    <label>Reason <select name="reason"><option value="">any</option><option value="max_attempts">max_attempts</option><option value="non_retryable">non_retryable</option><option value="lease_expired">lease_expired</option></select></label>
    <label>Error text <input name="error" maxlength="200" autocomplete="off"></label>
    <label>Fingerprint <input name="fingerprint" pattern="[0-9a-fA-F]{12}" maxlength="12" spellcheck="false" autocomplete="off"></label>
    <label>Per page <select name="limit"><option>25</option><option selected>50</option><option>100</option></select></label>
    <button type="submit">Filter</button> <button type="reset">Clear</button>
  </form>
  <p id="dlq-status" class="status" role="status"></p>
  <div id="dlq"></div>
  <div id="dlq-detail"></div>
</section>

<section id="view-questions" class="view" hidden>
  <div class="bar"><h2>Open worker questions</h2><button type="button" data-action="refresh-questions">Refresh</button></div>
  <p id="questions-status" class="status" role="status"></p>
  <div id="questions"></div>
</section>
</main>
<script>${DASHBOARD_SCRIPT}</script>
</body>
</html>
`;

export interface PageResponse {
  status: number;
  headers: Readonly<Record<string, string>>;
  body: string;
}

/** The dashboard's response: the same for every request (it holds no data). */
export function dashboardPage(): PageResponse {
  return { status: 200, headers: DASHBOARD_HEADERS, body: DASHBOARD_HTML };
}
