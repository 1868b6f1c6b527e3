// The page both HTML reports (the training report and the clinical evaluation) are written
// into: one head, one look for text and plots; each report adds the rules of its own tables.
import { escapeHtml } from './svg.js';

/** Headings, small print, confidence intervals and the verdict box. */
export const TEXT_STYLE = `h1 { font-size: 22px; margin-bottom: 4px; } h2 { font-size: 17px; margin-top: 28px; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
.small, .ci { color: #666; font-size: 12px; } .verdict { background: #f6f6f2; border-left: 4px solid #888; padding: 8px 12px; }`;

/** The SVG plots of svg.ts. */
export const PLOT_STYLE = `svg.plot { background: #fff; } .grid { stroke: #eee; } .frame { fill: none; stroke: #999; } .reference { stroke: #aaa; stroke-dasharray: 4 4; }
.tick { font-size: 11px; fill: #555; } .axis { font-size: 12px; fill: #333; } .legend { font-size: 11px; fill: #222; } .plot-title { font-size: 13px; font-weight: 600; fill: #222; }`;

/** The page up to its body: the title (escaped here) and the report's style sheet. */
export function reportHead(title: string, style: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>
${style}
</style>
</head>`;
}
