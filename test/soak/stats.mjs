// Shared by soak.mjs, plot.mjs and report.mjs: the CSV columns of a soak run, its parsing, and
// the summary (figures and verdict) computed from the samples.

export const COLUMNS = ['time', 'elapsed_s', 'rss_mb', 'heap_used_mb', 'heap_total_mb', 'handles', 'fds', 'cpu_pct', 'flows', 'devices', 'packets', 'dropped', 'alerts_open', 'loops'];

/** Warm-up: figures "after warm-up" start at this elapsed time (JIT, caches, flow table filled). */
export const WARMUP_S = 600;
/** "RSS flat": the slope of the fit over the last 75 % below this (MB per hour)... */
export const SLOPE_MB_PER_H = 1;
/** ...and the RSS at the end within this much of the RSS after warm-up (relative). */
export const DRIFT = 0.05;

export function parseCsv(text) {
  const lines = text.split('\n').filter(Boolean);
  const head = lines.shift().split(',');
  return lines.map((l) => {
    const cells = l.split(',');
    const row = {};
    head.forEach((h, i) => (row[h] = h === 'time' ? cells[i] : cells[i] === '' ? null : Number(cells[i])));
    return row;
  });
}

/** Least-squares slope of y over x (per unit of x). */
export function slope(xs, ys) {
  const n = xs.length;
  if (n < 2) return null;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i] - mx) * (ys[i] - my);
    den += (xs[i] - mx) ** 2;
  }
  return den === 0 ? null : num / den;
}

const round = (x, d = 2) => (x === null || x === undefined || Number.isNaN(x) ? null : Number(x.toFixed(d)));

/** The sample nearest to elapsed time `t` (seconds), or null. */
function at(rows, t) {
  let best = null;
  for (const r of rows) if (best === null || Math.abs(r.elapsed_s - t) < Math.abs(best.elapsed_s - t)) best = r;
  return best;
}

const median = (xs) => {
  const a = xs.filter((x) => x !== null && x !== undefined).sort((x, y) => x - y);
  return a.length === 0 ? null : a.length % 2 ? a[(a.length - 1) / 2] : (a[a.length / 2 - 1] + a[a.length / 2]) / 2;
};
/**
 * The level of a column over a 10-minute window: its median, not one sample (RSS and heap are a
 * saw-tooth of ±10 % between collections, one sample would make the drift a coin toss).
 */
function level(rows, key, from, to) {
  return median(rows.filter((r) => r.elapsed_s >= from && r.elapsed_s < to).map((r) => r[key]));
}

/** Figures and verdict of a run from its samples. */
export function summarize(rows, extra = {}) {
  const ok = rows.filter((r) => r.rss_mb !== null);
  if (ok.length === 0) return { samples: 0, verdict: 'no samples', ...extra };
  const last = ok[ok.length - 1];
  const duration = last.elapsed_s;
  const tail = ok.filter((r) => r.elapsed_s >= duration * 0.25);
  const perHour = (key) => {
    const pts = tail.filter((r) => r[key] !== null);
    const s = slope(pts.map((r) => r.elapsed_s / 3600), pts.map((r) => r[key]));
    return round(s, 3);
  };
  const warm = duration >= WARMUP_S ? at(ok, WARMUP_S) : null;
  const rssSlope = perHour('rss_mb');
  // RSS after warm-up: median over 10-20 min; at the end: median over the last 10 min.
  const rssWarm = warm ? level(ok, 'rss_mb', WARMUP_S, 2 * WARMUP_S) : null;
  const rssEnd = level(ok, 'rss_mb', duration - WARMUP_S + 1e-9, Infinity);
  const drift = rssWarm ? (rssEnd - rssWarm) / rssWarm : null;
  const cpus = ok.filter((r) => r.cpu_pct !== null).map((r) => r.cpu_pct);
  const rss = ok.map((r) => r.rss_mb);
  const first = ok[0];
  let verdict;
  if (extra.daemonExit) verdict = `daemon died (${extra.daemonExit})`;
  else if (!warm || duration < 2 * WARMUP_S) verdict = 'too short to judge';
  else if (rssSlope !== null && rssSlope < SLOPE_MB_PER_H && Math.abs(drift) < DRIFT) verdict = 'RSS flat';
  else verdict = 'RSS NOT flat';
  return {
    ...extra,
    samples: ok.length,
    durationS: duration,
    durationH: round(duration / 3600, 2),
    rssMB: {
      start: first.rss_mb,
      at10min: warm ? warm.rss_mb : null,
      end: last.rss_mb,
      median10to20min: round(rssWarm),
      medianLast10min: round(rssEnd),
      min: Math.min(...rss),
      max: Math.max(...rss),
      slopeMBPerHourLast75: rssSlope,
      driftSinceWarmupPct: drift === null ? null : round(drift * 100, 2),
    },
    heapUsedMB: {
      at10min: warm ? warm.heap_used_mb : null,
      end: last.heap_used_mb,
      min: Math.min(...ok.filter((r) => r.heap_used_mb !== null).map((r) => r.heap_used_mb)),
      max: Math.max(...ok.filter((r) => r.heap_used_mb !== null).map((r) => r.heap_used_mb)),
      slopeMBPerHourLast75: perHour('heap_used_mb'),
    },
    handles: { start: first.handles, at10min: warm ? warm.handles : null, end: last.handles, max: Math.max(...ok.map((r) => r.handles ?? 0)) },
    fds: { start: first.fds, at10min: warm ? warm.fds : null, end: last.fds, max: Math.max(...ok.map((r) => r.fds ?? 0)) },
    cpuPct: { mean: round(cpus.reduce((a, b) => a + b, 0) / Math.max(1, cpus.length), 1), max: round(Math.max(...cpus), 1) },
    flowsEnd: last.flows,
    devicesEnd: last.devices,
    packetsEnd: last.packets,
    droppedEnd: last.dropped,
    alertsOpenEnd: last.alerts_open,
    replayLoops: last.loops,
    thresholds: { warmupS: WARMUP_S, slopeMBPerHour: SLOPE_MB_PER_H, driftPct: DRIFT * 100 },
    verdict,
  };
}
