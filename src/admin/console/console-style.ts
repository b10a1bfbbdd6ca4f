/**
 * The console's style sheet, served as `GET /admin/console.css` (the CSP allows no inline
 * style). Readable from 320 px wide up; visible focus; respects reduced motion. Served minified:
 * edit it here, then run `npx node scripts/generate-console.ts` (it writes console-assets.ts).
 */
export const CONSOLE_STYLE = `
:root { color-scheme: light dark; --fg: #1b1f24; --bg: #fff; --muted: #57606a; --line: #d0d7de;
  --ok: #1a7f37; --bad: #cf222e; --warn: #9a6700; --accent: #0550ae; }
@media (prefers-color-scheme: dark) { :root { --fg: #e6edf3; --bg: #0d1117; --muted: #9198a1;
  --line: #3d444d; --ok: #3fb950; --bad: #f85149; --warn: #d29922; --accent: #58a6ff; } }
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.5 system-ui, sans-serif; color: var(--fg); background: var(--bg); }
header, main { max-width: 72rem; margin: 0 auto; padding: 0 1rem; }
h1 { font-size: 1.5rem; margin: 1rem 0 0.25rem; }
h2 { font-size: 1.25rem; margin: 1.5rem 0 0.5rem; }
h3 { font-size: 1.1rem; margin: 0 0 0.5rem; }
.skip { position: absolute; left: -999px; }
.skip:focus { left: 1rem; top: 0.5rem; background: var(--bg); padding: 0.25rem 0.5rem; }
.visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
[hidden] { display: none !important; }
label { display: block; font-weight: 600; }
input { font: inherit; padding: 0.5rem; width: min(100%, 28rem); border: 1px solid var(--line); border-radius: 6px; background: var(--bg); color: var(--fg); }
button { font: inherit; padding: 0.45rem 0.9rem; border: 1px solid var(--line); border-radius: 6px; background: var(--bg); color: var(--fg); cursor: pointer; min-height: 44px; }
button.primary { background: var(--accent); border-color: var(--accent); color: #fff; }
button:disabled { opacity: 0.5; cursor: not-allowed; }
:focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
.help, .muted { color: var(--muted); font-size: 0.9rem; }
.error { color: var(--bad); font-weight: 600; }
.result { min-height: 1.5em; }
.toolbar, .actions { display: flex; flex-wrap: wrap; gap: 0.5rem; margin: 0.5rem 0; }
.providers { display: grid; gap: 1rem; grid-template-columns: repeat(auto-fit, minmax(min(100%, 22rem), 1fr)); }
.provider { border: 1px solid var(--line); border-radius: 8px; padding: 1rem; }
dl { display: grid; grid-template-columns: minmax(7rem, max-content) 1fr; gap: 0.2rem 0.75rem; margin: 0 0 0.5rem; }
dt { color: var(--muted); }
dd { margin: 0; overflow-wrap: anywhere; }
.ok { color: var(--ok); } .bad { color: var(--bad); } .warn { color: var(--warn); }
table { width: 100%; border-collapse: collapse; font-size: 0.95rem; }
th, td { text-align: left; padding: 0.35rem 0.5rem; border-bottom: 1px solid var(--line); vertical-align: top; overflow-wrap: anywhere; }
meter { width: 100%; min-width: 6rem; height: 1rem; }
dialog { max-width: min(92vw, 32rem); border: 1px solid var(--line); border-radius: 8px; color: var(--fg); background: var(--bg); }
dialog::backdrop { background: rgb(0 0 0 / 0.5); }
dialog .actions { justify-content: flex-end; }
@media (max-width: 40rem) {
  thead { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); }
  table, tbody, tr, td { display: block; }
  tr { border-bottom: 1px solid var(--line); padding: 0.25rem 0; }
  td { border: 0; padding: 0.1rem 0; }
  td::before { content: attr(data-label) ": "; color: var(--muted); }
  dl { grid-template-columns: 1fr; }
  dd { margin-bottom: 0.25rem; }
}
@media (prefers-reduced-motion: reduce) { * { transition: none !important; } }
`
