/**
 * The tour's report as text (the seed's summary table with the measured
 * column, then every figure), as JSON, and as a self-contained HTML page
 * with an inline SVG bar chart per technique.
 *
 * @module
 */
import type { Measure, PathFigures, TourReport, TourRow } from "./model.ts";
import { fmt } from "./measure.ts";

/** The "saved on this host" cell of a row. */
export function savedCell(row: TourRow): string {
  if (row.status === "measured" && row.saved) return row.saved.text;
  return `${row.status}: ${row.reason ?? "unknown"}`;
}

function hostLine(r: TourReport): string {
  const h = r.host;
  return `${h.runtime}, kernel ${h.kernel}, ${h.cpus} × ${h.cpu}, ${h.euid === 0 ? "root" : `euid ${h.euid}`}, ` +
    `load ${h.load.toFixed(1)} at the start; ${r.quick ? "--quick, " : ""}${r.seconds.toFixed(0)} s`;
}

/** The seed's summary table with the measured column, in Markdown. */
export function summaryTable(r: TourReport): string {
  const lines = [
    "| Technique | Primary CPU Saving | Key Mechanism | Saved on this host |",
    "|---|---|---|---|",
  ];
  for (const row of r.rows) {
    lines.push(`| ${row.technique} | ${row.saving} | ${row.mechanism} | ${savedCell(row).replaceAll("|", "/")} |`);
  }
  return lines.join("\n");
}

function measureHeader(m: Measure): string {
  return m.unit === "%" || m.unit === "calls" ? m.name : `${m.name} (${m.unit})`;
}

/** One row's raw figures as an aligned text table, with its notes. */
export function figuresText(row: TourRow): string {
  const out = [`${row.technique}: ${row.status === "measured" ? row.workload : row.status}`];
  if (row.status !== "measured") {
    out.push(`  ${row.reason ?? ""}`);
    for (const f of row.fix ?? []) out.push(`  fix: ${f}`);
    return out.join("\n");
  }
  out.push(`  verdict: ${row.verdict} (${row.saved?.text})`);
  const head = ["path", ...row.figures[0].measures.map(measureHeader)];
  const body = row.figures.map((f) => [
    `${f.path}${f.role === "classic" ? " (classic)" : ""}`,
    ...f.measures.map((m) => fmt(m.value)),
  ]);
  const widths = head.map((_, i) => Math.max(...[head, ...body].map((l) => (l[i] ?? "").length)));
  for (const l of [head, ...body]) {
    out.push(`  ${l.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("   ")}`);
  }
  for (const f of row.figures) if (f.note) out.push(`  ${f.path}: ${f.note}`);
  for (const n of row.notes) out.push(`  note: ${n}`);
  return out.join("\n");
}

/** The whole report as text: host, summary table, then each row's figures. */
export function reportText(r: TourReport): string {
  return [
    `kernelkit tour: ${hostLine(r)}`,
    "",
    summaryTable(r),
    "",
    ...r.rows.map((row) => `${figuresText(row)}\n`),
  ].join("\n").trimEnd();
}

/** Escapes text for HTML and SVG. */
export function escapeHtml(s: string): string {
  return s.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;").replaceAll('"', "&quot;");
}

const WIDTH = 640;
const LABEL = 210;
const BAR_H = 26;

/** A horizontal bar chart of each path's primary measure (or a panel saying why there is none). */
export function barChart(row: TourRow): string {
  const title = `${row.technique}: ${row.status === "measured" ? measureHeader(row.figures[0].measures[0]) : row.status}`;
  if (row.status !== "measured" || row.figures.length === 0) {
    return `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="60" viewBox="0 0 ${WIDTH} 60" role="img">` +
      `<title>${escapeHtml(title)}</title>` +
      `<rect x="0" y="0" width="${WIDTH}" height="60" fill="#f4f4f4"/>` +
      `<text x="12" y="35" font-size="14" fill="#555">${escapeHtml(`${row.status}: ${row.reason ?? ""}`.slice(0, 90))}</text>` +
      `</svg>`;
  }
  const primary = (f: PathFigures) => f.measures[0];
  const max = Math.max(...row.figures.map((f) => primary(f).value));
  const height = 40 + row.figures.length * (BAR_H + 10);
  const bars = row.figures.map((f, i) => {
    const m = primary(f);
    const y = 30 + i * (BAR_H + 10);
    const w = max > 0 ? Math.max(2, ((WIDTH - LABEL - 110) * m.value) / max) : 2;
    const color = f.role === "classic" ? "#9a9a9a" : "#2f8f4e";
    return `<text x="${LABEL - 8}" y="${y + 18}" font-size="13" text-anchor="end">${escapeHtml(f.path)}</text>` +
      `<rect x="${LABEL}" y="${y}" width="${w.toFixed(1)}" height="${BAR_H}" fill="${color}"/>` +
      `<text x="${(LABEL + w + 6).toFixed(1)}" y="${y + 18}" font-size="13">${escapeHtml(`${fmt(m.value)} ${m.unit}`)}</text>`;
  }).join("");
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" role="img">` +
    `<title>${escapeHtml(title)}</title>` +
    `<text x="0" y="16" font-size="13" fill="#333">${escapeHtml(title)} (shorter is better)</text>` +
    bars +
    `</svg>`;
}

function figuresHtml(row: TourRow): string {
  if (row.status !== "measured") {
    const fixes = (row.fix ?? []).map((f) => `<li>${escapeHtml(f)}</li>`).join("");
    return `<p class="skipped">${escapeHtml(`${row.status}: ${row.reason ?? ""}`)}</p>` +
      (fixes ? `<p>What would let it run:</p><ul>${fixes}</ul>` : "");
  }
  const head = row.figures[0].measures.map((m) => `<th>${escapeHtml(measureHeader(m))}</th>`).join("");
  const body = row.figures.map((f) =>
    `<tr class="${f.role}"><td>${escapeHtml(f.path)}${f.role === "classic" ? " <small>(classic)</small>" : ""}</td>` +
    f.measures.map((m) => `<td title="rounds: ${escapeHtml(m.rounds.map((x) => fmt(x)).join(", "))}">${fmt(m.value)}</td>`)
      .join("") +
    `</tr>`
  ).join("");
  const notes = [
    ...row.figures.filter((f) => f.note).map((f) => `${f.path}: ${f.note}`),
    ...row.notes,
  ].map((n) => `<li>${escapeHtml(n)}</li>`).join("");
  return `<p>${escapeHtml(row.workload)}</p>` +
    `<p class="verdict ${row.verdict === "saves" ? "good" : "flat"}">${escapeHtml(`${row.verdict}: ${row.saved?.text ?? ""}`)}</p>` +
    `<table><thead><tr><th>path</th>${head}</tr></thead><tbody>${body}</tbody></table>` +
    (notes ? `<ul class="notes">${notes}</ul>` : "");
}

/** The report as one self-contained HTML page: no scripts, no fetches, one SVG chart per technique. */
export function reportHtml(r: TourReport): string {
  const summary = r.rows.map((row) =>
    `<tr><td><a href="#${row.id}">${escapeHtml(row.technique)}</a></td><td>${escapeHtml(row.saving)}</td>` +
    `<td>${escapeHtml(row.mechanism)}</td><td>${escapeHtml(savedCell(row))}</td></tr>`
  ).join("");
  const sections = r.rows.map((row) =>
    `<section id="${row.id}"><h2>${escapeHtml(row.technique)}</h2>${barChart(row)}${figuresHtml(row)}</section>`
  ).join("\n");
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>kernelkit tour</title>
<style>
body { font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; color: #222; }
table { border-collapse: collapse; margin: 0.5rem 0; }
th, td { border: 1px solid #ccc; padding: 0.25rem 0.5rem; text-align: left; }
td + td { text-align: right; }
.summary td + td { text-align: left; }
tr.fast td:first-child { color: #2f8f4e; }
.verdict.good { color: #2f8f4e; font-weight: bold; }
.verdict.flat, .skipped { color: #8a5a00; font-weight: bold; }
.notes { color: #555; font-size: 0.9rem; }
svg { display: block; margin: 0.5rem 0; font-family: system-ui, sans-serif; }
</style>
</head>
<body>
<h1>kernelkit tour</h1>
<p>${escapeHtml(hostLine(r))}. Started ${escapeHtml(r.startedAt)}, kernelkit ${escapeHtml(r.version)}.</p>
<table class="summary"><thead><tr><th>Technique</th><th>Primary CPU Saving</th><th>Key Mechanism</th><th>Saved on this host</th></tr></thead>
<tbody>${summary}</tbody></table>
${sections}
</body>
</html>
`;
}
