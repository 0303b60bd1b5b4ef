/** The report page's stylesheet (the chart panels' own styles are RUN_CHARTS_CSS in charts.ts). */
export const REPORT_CSS = `
:root {
  --ink: #0f172a; --text: #1e293b; --muted: #64748b; --faint: #94a3b8; --line: #e2e8f0; --page: #f1f5f9; --card: #fff;
  --accent: #2563eb; --ok: #15803d; --ok-bg: #f0fdf4; --ok-line: #bbf7d0;
  --warn: #a16207; --warn-bg: #fefce8; --warn-line: #fde68a; --err: #b91c1c; --err-bg: #fef2f2; --err-line: #fecaca;
  --mono: ui-monospace, "SFMono-Regular", "DejaVu Sans Mono", Menlo, Consolas, monospace;
}
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body { margin: 0; background: var(--page); color: var(--text); font: 14px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 1200px; margin: 0 auto; padding: 28px 28px 40px; }
h1, h2, h3 { color: var(--ink); line-height: 1.25; }
h1 { margin: 2px 0 6px; font-size: 26px; letter-spacing: -0.01em; overflow-wrap: anywhere; }
h2 { margin: 0; font-size: 18px; }
h3 { margin: 0 0 8px; font-size: 14px; }
code, .mono { font-family: var(--mono); font-size: 12.5px; }
.num { text-align: right; font-variant-numeric: tabular-nums; }
.muted { color: var(--muted); }

.masthead { display: flex; justify-content: space-between; align-items: flex-start; gap: 16px; }
.eyebrow { font-size: 12px; font-weight: 600; letter-spacing: 0.08em; text-transform: uppercase; color: var(--muted); }
.subtitle { color: var(--muted); margin: 0; }
.subtitle span + span::before { content: "·"; margin: 0 8px; color: var(--faint); }
.badge { flex: none; display: inline-flex; align-items: center; gap: 6px; padding: 4px 12px; border-radius: 999px; font-size: 13px; font-weight: 600; border: 1px solid; white-space: nowrap; }
.badge.ok { color: var(--ok); background: var(--ok-bg); border-color: var(--ok-line); }
.badge.warn { color: var(--warn); background: var(--warn-bg); border-color: var(--warn-line); }
.badge.error { color: var(--err); background: var(--err-bg); border-color: var(--err-line); }
nav.toc { display: flex; flex-wrap: wrap; gap: 4px 18px; margin: 14px 0 0; font-size: 13px; }
nav.toc a { color: var(--accent); text-decoration: none; }
nav.toc a:hover { text-decoration: underline; }

.tiles { display: grid; grid-template-columns: repeat(auto-fit, minmax(145px, 1fr)); gap: 12px; margin: 20px 0 0; }
.tile { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 12px 14px; min-width: 0; }
.tile .label { font-size: 11.5px; font-weight: 600; letter-spacing: 0.05em; text-transform: uppercase; color: var(--muted); }
.tile .value { margin-top: 2px; font-size: 22px; font-weight: 650; color: var(--ink); font-variant-numeric: tabular-nums; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.tile .note { font-size: 12px; color: var(--muted); white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.tile.ok { border-color: var(--ok-line); background: var(--ok-bg); }
.tile.ok .value { color: var(--ok); }
.tile.warn { border-color: var(--warn-line); background: var(--warn-bg); }
.tile.warn .value { color: var(--warn); }
.tile.error { border-color: var(--err-line); background: var(--err-bg); }
.tile.error .value { color: var(--err); }

.card { background: var(--card); border: 1px solid var(--line); border-radius: 12px; padding: 20px 22px; margin-top: 20px; }
.card > header { display: flex; justify-content: space-between; align-items: baseline; gap: 16px; margin-bottom: 14px; }
.card > header p { margin: 0; color: var(--muted); font-size: 13px; }
.card.feature { border-top: 3px solid var(--accent); }
.empty { color: var(--muted); margin: 0; }

.notice { margin-top: 20px; padding: 10px 14px; border-radius: 8px; border: 1px solid var(--warn-line); background: var(--warn-bg); color: var(--warn); }
.notice p { margin: 2px 0; }

.facts { display: grid; grid-template-columns: repeat(auto-fill, minmax(255px, 1fr)); gap: 0 28px; margin: 0; }
.facts > div { display: grid; grid-template-columns: 92px minmax(0, 1fr); gap: 10px; padding: 6px 0; border-bottom: 1px solid var(--line); font-size: 13px; }
.facts dt { color: var(--muted); }
.facts dd { margin: 0; color: var(--ink); overflow-wrap: anywhere; }
.facts dd small { color: var(--muted); }
.command { margin: 16px 0 0; padding: 12px 14px; border-radius: 8px; background: #0f172a; color: #e2e8f0; font-family: var(--mono); font-size: 12.5px; line-height: 1.6; white-space: pre-wrap; overflow-wrap: anywhere; }
.command .prompt { color: #64748b; user-select: none; }
.command-note { margin: 6px 0 0; font-size: 12px; color: var(--muted); }

table { width: 100%; border-collapse: collapse; font-variant-numeric: tabular-nums; }
th, td { padding: 8px 10px; border-bottom: 1px solid var(--line); text-align: left; vertical-align: middle; }
thead th { font-size: 11.5px; font-weight: 600; letter-spacing: 0.04em; text-transform: uppercase; color: var(--muted); border-bottom-color: #cbd5e1; white-space: nowrap; }
tfoot td, tfoot th { border-bottom: 0; border-top: 1px solid #cbd5e1; font-weight: 600; color: var(--ink); }
tbody tr:last-child td, tbody tr:last-child th { border-bottom: 0; }
th.num, td.num { text-align: right; }
.table-scroll { overflow-x: auto; }

.verdict { display: flex; gap: 12px; align-items: flex-start; padding: 12px 16px; margin-bottom: 16px; border-radius: 10px; border: 1px solid; }
.verdict .mark { flex: none; width: 22px; height: 22px; border-radius: 50%; display: inline-flex; align-items: center; justify-content: center; color: #fff; font-weight: 700; font-size: 13px; margin-top: 1px; }
.verdict strong { display: block; font-size: 15px; }
.verdict ul { margin: 4px 0 0; padding-left: 18px; }
.verdict.ok { background: var(--ok-bg); border-color: var(--ok-line); color: var(--ok); }
.verdict.ok .mark { background: var(--ok); }
.verdict.warn { background: var(--warn-bg); border-color: var(--warn-line); color: var(--warn); }
.verdict.warn .mark { background: #ca8a04; }
.verdict.error { background: var(--err-bg); border-color: var(--err-line); color: var(--err); }
.verdict.error .mark { background: var(--err); }
.verdict.none { background: #f8fafc; border-color: var(--line); color: var(--muted); }
.verdict.none .mark { background: var(--faint); }

.ledger td.epoch { font-weight: 600; color: var(--ink); white-space: nowrap; }
.ledger .windows { font-family: var(--mono); font-size: 12.5px; white-space: nowrap; }
.ledger .windows .skipped { color: var(--err); text-decoration: line-through; }
.ledger .windows .pending { color: var(--faint); }
.ledger .seen strong { font-weight: 600; color: var(--ink); }
.ledger .zero { color: var(--faint); }
.ledger .bad { color: var(--err); font-weight: 600; }
.ledger .check { width: 48px; text-align: center; font-weight: 700; }
.ledger .check.ok { color: var(--ok); }
.ledger .check.error { color: var(--err); }
.ledger .check.open { color: var(--faint); }
.ledger td.windows-cell { width: 30%; min-width: 200px; }
.strip { display: flex; gap: 2px; height: 8px; margin-top: 5px; border-radius: 3px; overflow: hidden; }
.strip > span { display: block; min-width: 2px; }
.strip .applied { background: #3b82f6; }
.strip .skipped { background: repeating-linear-gradient(135deg, #dc2626 0 3px, #fca5a5 3px 6px); }
.strip .pending { background: #e2e8f0; }
.strip .unknown { background: #94a3b8; }
.strip .dropped { background: repeating-linear-gradient(135deg, #94a3b8 0 3px, #e2e8f0 3px 6px); }
.legend { display: flex; flex-wrap: wrap; gap: 6px 18px; margin: 12px 0 0; font-size: 12px; color: var(--muted); }
.legend span::before { content: ""; display: inline-block; width: 12px; height: 10px; border-radius: 2px; margin-right: 6px; vertical-align: -1px; }
.legend .applied::before { background: #3b82f6; }
.legend .skipped::before { background: repeating-linear-gradient(135deg, #dc2626 0 3px, #fca5a5 3px 6px); }
.legend .dropped::before { background: repeating-linear-gradient(135deg, #94a3b8 0 3px, #e2e8f0 3px 6px); }
.legend .pending::before { background: #e2e8f0; }
.legend .unknown::before { background: #94a3b8; }

.eval-grid { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); gap: 28px; margin-top: 18px; }
.eval-grid > div { min-width: 0; }
.tiles.eval { margin-top: 0; grid-template-columns: repeat(auto-fill, minmax(170px, 210px)); }
.score { position: relative; }
.score .bar { display: block; height: 3px; margin-top: 3px; border-radius: 2px; background: #dbeafe; }
.score .bar i { display: block; height: 100%; border-radius: 2px; background: #3b82f6; }
.label-name { font-weight: 600; color: var(--ink); overflow-wrap: anywhere; }
.confusion { width: auto; min-width: 60%; }
.confusion th, .confusion td { border: 1px solid #fff; }
.confusion thead th { text-transform: none; letter-spacing: 0; font-size: 12.5px; color: var(--ink); text-align: center; border-bottom: 1px solid #fff; }
.confusion thead th.axis, .confusion tbody th.axis { color: var(--muted); font-weight: 600; font-size: 11.5px; text-transform: uppercase; letter-spacing: 0.04em; }
.confusion tbody th { font-weight: 600; color: var(--ink); text-align: right; white-space: nowrap; }
.confusion td { min-width: 64px; text-align: center; font-weight: 600; background: #f8fafc; }
.confusion td small { display: block; font-weight: 400; font-size: 11px; opacity: 0.85; }
.confusion td.total { background: transparent; color: var(--muted); font-weight: 500; }
.confusion-note { margin: 8px 0 0; font-size: 12px; color: var(--muted); }

details.settings { margin-top: 16px; }
details.settings summary { cursor: pointer; color: var(--accent); font-size: 13px; }
details.settings table { margin-top: 10px; }
details.settings td:first-child { color: var(--muted); width: 200px; }
details.settings td { font-family: var(--mono); font-size: 12.5px; overflow-wrap: anywhere; }

footer { margin-top: 28px; font-size: 12px; color: var(--faint); text-align: center; }
@media (max-width: 900px) { .eval-grid { grid-template-columns: minmax(0, 1fr); } main { padding: 20px 16px 32px; } }
@media print { body { background: #fff; } .card, .tile { break-inside: avoid; } nav.toc { display: none; } }
`;
