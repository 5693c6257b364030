// The curve of a soak run: `node test/soak/plot.mjs <run.csv> [out.svg]` writes an SVG (two
// panels: RSS, V8 heap total and used in MB; CPU % of a core, open fds and active handles) and
// prints an ASCII plot of the RSS. report.mjs uses the same functions for docs/soak/.
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseCsv, WARMUP_S } from './stats.mjs';

const W = 900;
const PANEL_H = 260;
const M = { left: 60, right: 20, top: 30, bottom: 40 };
const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;');

function niceMax(v) {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

function panel(rows, series, { y0, title, unit }) {
  const xMax = Math.max(1, rows[rows.length - 1].elapsed_s / 3600);
  const yMax = niceMax(Math.max(...series.flatMap((s) => rows.map((r) => r[s.key] ?? 0))) * 1.1);
  const iw = W - M.left - M.right;
  const ih = PANEL_H - M.top - M.bottom;
  const x = (h) => M.left + (h / xMax) * iw;
  const y = (v) => y0 + M.top + ih - (v / yMax) * ih;
  const out = [`<text x="${M.left}" y="${y0 + 18}" font-size="14" font-weight="bold">${esc(title)}</text>`];
  for (let i = 0; i <= 5; i++) {
    const v = (yMax * i) / 5;
    out.push(`<line x1="${M.left}" x2="${W - M.right}" y1="${y(v)}" y2="${y(v)}" stroke="#ddd"/>`, `<text x="${M.left - 6}" y="${y(v) + 4}" font-size="11" text-anchor="end">${Number(v.toFixed(1))}</text>`);
  }
  const step = xMax > 12 ? 2 : xMax > 4 ? 1 : xMax > 1 ? 0.25 : 0.1;
  for (let h = 0; h <= xMax + 1e-9; h += step) out.push(`<line x1="${x(h)}" x2="${x(h)}" y1="${y0 + M.top}" y2="${y0 + M.top + ih}" stroke="#eee"/>`, `<text x="${x(h)}" y="${y0 + M.top + ih + 16}" font-size="11" text-anchor="middle">${Number(h.toFixed(2))} h</text>`);
  const wx = x(WARMUP_S / 3600);
  if (WARMUP_S / 3600 < xMax) out.push(`<line x1="${wx}" x2="${wx}" y1="${y0 + M.top}" y2="${y0 + M.top + ih}" stroke="#999" stroke-dasharray="4 3"/>`, `<text x="${wx + 4}" y="${y0 + M.top + 12}" font-size="10" fill="#666">end of warm-up</text>`);
  out.push(`<text x="14" y="${y0 + M.top + ih / 2}" font-size="11" transform="rotate(-90 14 ${y0 + M.top + ih / 2})" text-anchor="middle">${esc(unit)}</text>`);
  series.forEach((s, i) => {
    const pts = rows.filter((r) => r[s.key] !== null).map((r) => `${x(r.elapsed_s / 3600).toFixed(1)},${y(r[s.key]).toFixed(1)}`);
    out.push(`<polyline fill="none" stroke="${s.color}" stroke-width="1.5" points="${pts.join(' ')}"/>`);
    out.push(`<rect x="${W - M.right - 170}" y="${y0 + 8 + i * 14}" width="10" height="3" fill="${s.color}"/>`, `<text x="${W - M.right - 155}" y="${y0 + 13 + i * 14}" font-size="11">${esc(s.label)}</text>`);
  });
  return out.join('\n');
}

/** The SVG of a run's samples. */
export function svg(rows, title = 'vigie run: soak') {
  const H = 2 * PANEL_H + 30;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="18" font-size="15" text-anchor="middle">${esc(title)}</text>`,
    panel(rows, [
      { key: 'rss_mb', label: 'RSS (VmRSS)', color: '#d62728' },
      { key: 'heap_total_mb', label: 'V8 heap total', color: '#1f77b4' },
      { key: 'heap_used_mb', label: 'V8 heap used', color: '#2ca02c' },
    ], { y0: 25, title: 'Memory', unit: 'MB' }),
    panel(rows, [
      { key: 'cpu_pct', label: 'CPU (% of one core)', color: '#ff7f0e' },
      { key: 'fds', label: 'open fds', color: '#9467bd' },
      { key: 'handles', label: 'active handles', color: '#8c564b' },
    ], { y0: 25 + PANEL_H, title: 'CPU, fds, handles', unit: '% / count' }),
    '</svg>',
    '',
  ].join('\n');
}

/** An ASCII plot of one column over time (`width` columns, `height` lines). */
export function ascii(rows, key = 'rss_mb', width = 72, height = 12) {
  const pts = rows.filter((r) => r[key] !== null);
  if (pts.length === 0) return '(no samples)\n';
  const lo = Math.min(...pts.map((r) => r[key]));
  const hi = Math.max(...pts.map((r) => r[key]));
  const tMax = Math.max(1, pts[pts.length - 1].elapsed_s);
  const grid = Array.from({ length: height }, () => Array(width).fill(' '));
  for (const r of pts) {
    const c = Math.min(width - 1, Math.floor((r.elapsed_s / tMax) * (width - 1)));
    const l = hi === lo ? 0 : Math.round(((r[key] - lo) / (hi - lo)) * (height - 1));
    grid[height - 1 - l][c] = '*';
  }
  const label = (l) => (hi === lo ? lo : lo + ((hi - lo) * l) / (height - 1)).toFixed(1).padStart(7);
  const lines = grid.map((row, i) => `${i === 0 || i === height - 1 || i === Math.floor(height / 2) ? label(height - 1 - i) : '       '} |${row.join('')}`);
  lines.push(`        +${'-'.repeat(width)}`, `         0${`${(tMax / 3600).toFixed(2)} h`.padStart(width - 1)}   (${key})`);
  return lines.join('\n') + '\n';
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [csv, out] = process.argv.slice(2);
  if (!csv) throw new Error('usage: node test/soak/plot.mjs <run.csv> [out.svg]');
  const rows = parseCsv(fs.readFileSync(csv, 'utf8'));
  process.stdout.write(ascii(rows));
  if (out) {
    fs.writeFileSync(out, svg(rows));
    process.stdout.write(`wrote ${out}\n`);
  }
}
