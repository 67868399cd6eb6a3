/** The web dashboard's one inline stylesheet (page.ts puts its SHA-256 in the CSP). Classes only: the CSP allows no style attributes. */
export const DASHBOARD_STYLE = String.raw`
:root { color-scheme: light dark; --fg: #1d2330; --muted: #5f6b7a; --bg: #f6f7f9; --card: #fff; --line: #d9dee5;
  --accent: #2457c5; --warn: #b3261e; --ok: #1e7a3c; --wait: #8a5a00; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; }
@media (prefers-color-scheme: dark) {
  :root { --fg: #e4e8ee; --muted: #9aa5b4; --bg: #14171c; --card: #1c2027; --line: #313843; --accent: #7fa7ff; --warn: #ff8a80; --ok: #7bd88f; --wait: #f0c36b; }
}
* { box-sizing: border-box; }
[hidden] { display: none !important; }
body { margin: 0; color: var(--fg); background: var(--bg); }
header.top { display: flex; align-items: center; gap: 1rem; padding: .6rem 1.2rem; background: var(--card); border-bottom: 1px solid var(--line); flex-wrap: wrap; }
header.top h1 { font-size: 1.1rem; margin: 0 1rem 0 0; }
nav#tabs { display: flex; gap: .25rem; flex: 1; flex-wrap: wrap; }
nav#tabs button { border: 0; background: none; color: var(--muted); padding: .4rem .7rem; border-radius: 6px; font-weight: 600; }
nav#tabs button[aria-selected="true"] { color: var(--accent); background: color-mix(in srgb, var(--accent) 12%, transparent); }
main { padding: 1rem 1.2rem 3rem; max-width: 1400px; }
.panel, .view { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 1rem 1.2rem; }
.panel { max-width: 36rem; }
h2 { font-size: 1.05rem; margin: 0; }
h3 { font-size: 1rem; margin: 0; }
h4 { font-size: .9rem; margin: 1.2rem 0 .4rem; color: var(--muted); text-transform: uppercase; letter-spacing: .03em; }
.bar { display: flex; align-items: center; gap: .75rem; flex-wrap: wrap; margin-bottom: .75rem; }
.bar h2, .bar h3 { margin-right: auto; }
button { font: inherit; cursor: pointer; padding: .3rem .7rem; border-radius: 6px; border: 1px solid var(--line); background: var(--card); color: var(--fg); }
button:hover { border-color: var(--accent); }
button:disabled { opacity: .5; cursor: default; }
button[type="submit"] { background: var(--accent); border-color: var(--accent); color: #fff; }
button.danger { color: var(--warn); }
button.link { border: 0; background: none; padding: 0; color: var(--accent); text-decoration: underline; }
button.link.warn { color: var(--warn); font-weight: 600; }
.mono, code, pre { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: .85rem; }
input, select, textarea { font: inherit; color: var(--fg); background: var(--bg); border: 1px solid var(--line); border-radius: 6px; padding: .3rem .5rem; }
form label { display: inline-flex; flex-direction: column; gap: .15rem; font-size: .85rem; color: var(--muted); margin: 0 .6rem .5rem 0; vertical-align: bottom; }
#key-form input { width: 100%; margin: .3rem 0 .6rem; }
form.answer label { display: flex; margin-right: 0; }
form.answer textarea { width: 100%; }
table.grid { border-collapse: collapse; width: 100%; }
table.grid th, table.grid td { text-align: left; padding: .35rem .55rem; border-bottom: 1px solid var(--line); vertical-align: top; }
table.grid thead th { font-size: .8rem; color: var(--muted); font-weight: 600; white-space: nowrap; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.warn { color: var(--warn); font-weight: 600; }
td.error { max-width: 28rem; overflow-wrap: anywhere; }
td.actions { white-space: nowrap; }
td.totals { font-size: .8rem; color: var(--muted); }
.badge { display: inline-block; padding: 0 .45rem; border-radius: 999px; font-size: .78rem; font-weight: 600; border: 1px solid currentColor; white-space: nowrap; }
.st-completed, .st-idle, .st-answered { color: var(--ok); }
.st-failed, .st-expired, .st-cancelled, .st-suspended { color: var(--warn); }
.st-waiting, .st-retrying, .st-scheduled, .st-open { color: var(--wait); }
.st-active, .st-busy, .st-pending { color: var(--accent); }
.st-other { color: var(--muted); }
dl.kv { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; margin: 0; }
dl.kv dt { color: var(--muted); }
dl.kv dd { margin: 0; overflow-wrap: anywhere; }
pre { background: var(--bg); border: 1px solid var(--line); border-radius: 6px; padding: .6rem; overflow: auto; max-height: 24rem; white-space: pre-wrap; overflow-wrap: anywhere; margin: 0; }
.errbox p { margin: 0 0 .4rem; color: var(--warn); overflow-wrap: anywhere; }
.status { min-height: 1.2em; margin: .3rem 0; color: var(--muted); }
.status.error, .form-status.error { color: var(--warn); }
.muted, .summary { color: var(--muted); }
.empty { color: var(--muted); font-style: italic; }
.pager { margin-top: .6rem; }
#dlq-detail:not(:empty) { margin-top: 1.2rem; padding-top: 1rem; border-top: 2px solid var(--line); }
article.question { border: 1px solid var(--line); border-radius: 8px; padding: .8rem 1rem; margin-bottom: .8rem; }
article.question .message { white-space: pre-wrap; overflow-wrap: anywhere; font-size: 1rem; margin: .5rem 0; }
article.question .meta { color: var(--muted); }
`;
