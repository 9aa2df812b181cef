/** The self-contained HTML page: inline CSS and inline SVG charts, no script, no network. */

export interface ReportChart {
  id: string;
  title: string;
  svg: string;
}

export interface ReportSection {
  title: string;
  /** Shown above the charts (already escaped HTML). */
  html?: string;
  charts: ReportChart[];
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** A table from a header and rows of cells (cells are escaped). */
export function htmlTable(head: string[], rows: (string | number)[][]): string {
  const cell = (v: string | number, tag: string) => `<${tag}>${escapeHtml(String(v))}</${tag}>`;
  return `<table><thead><tr>${head.map((h) => cell(h, 'th')).join('')}</tr></thead><tbody>${rows
    .map((r) => `<tr>${r.map((v) => cell(v, 'td')).join('')}</tr>`)
    .join('')}</tbody></table>`;
}

const style = `
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0; color: #1d2330; background: #f5f6f8; }
header { background: #1d2330; color: #fff; padding: 20px 32px; }
header h1 { margin: 0 0 6px; font-size: 22px; }
header .facts { color: #c8cdd8; }
main { padding: 8px 32px 40px; }
section { margin-top: 24px; }
h2 { font-size: 17px; border-bottom: 1px solid #d8dce3; padding-bottom: 4px; }
.grid { display: flex; flex-wrap: wrap; gap: 16px; }
figure.chart { background: #fff; border: 1px solid #e1e4ea; border-radius: 6px; padding: 8px; margin: 0; }
figure.chart figcaption { font-size: 12px; color: #5b6475; }
table { border-collapse: collapse; background: #fff; margin: 8px 0; }
th, td { border: 1px solid #e1e4ea; padding: 4px 10px; text-align: right; }
th:first-child, td:first-child { text-align: left; }
pre { background: #fff; border: 1px solid #e1e4ea; padding: 12px; overflow: auto; font-size: 12px; }
.note { color: #5b6475; }
`;

export function renderPage(title: string, facts: string[], sections: ReportSection[]): string {
  const body = sections
    .map(
      (s) => `<section><h2>${escapeHtml(s.title)}</h2>${s.html ?? ''}<div class="grid">${s.charts
        .map((c) => `<figure class="chart" data-chart="${escapeHtml(c.id)}">${c.svg}<figcaption>${escapeHtml(c.title)}</figcaption></figure>`)
        .join('\n')}</div></section>`,
    )
    .join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${style}</style>
</head>
<body>
<header><h1>${escapeHtml(title)}</h1><div class="facts">${facts.map(escapeHtml).join(' · ')}</div></header>
<main>
${body}
</main>
</body>
</html>
`;
}
