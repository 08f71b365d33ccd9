import { createHash } from 'node:crypto';

/**
 * What the printable pages share (the operations report of `canhgac report`, the console's shift
 * handover): one look on paper, one escaping, no script and nothing fetched.
 */
export const esc = (s: unknown) => String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

export const PRINT_STYLE =
  'body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:collapse;margin:1em 0;font-size:13px}th,td{border:1px solid #ccc;padding:3px 8px;text-align:right}th:first-child{text-align:left;white-space:nowrap}.legend i{display:inline-block;width:10px;height:10px;margin:0 4px 0 10px}.warn{color:#8b0000}table.list td,table.list th{text-align:left;vertical-align:top}';

/** The CSP source that lets a served page use PRINT_STYLE and no other inline style. */
export const PRINT_STYLE_SOURCE = `'sha256-${createHash('sha256').update(PRINT_STYLE).digest('base64')}'`;

/** One self-contained HTML page around `body` (already escaped HTML). */
export function printablePage(o: { lang: string; title: string; body: string }): string {
  return `<!doctype html>
<html lang="${esc(o.lang)}"><head><meta charset="utf-8"><title>${esc(o.title)}</title>
<style>${PRINT_STYLE}</style></head>
<body>
${o.body}
</body></html>
`;
}
