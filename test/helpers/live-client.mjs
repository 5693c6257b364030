// A dashboard stand-in for tests: logs in to a running `vigie run`, opens /api/live and prints
// one JSON line per message received, with the time it arrived (ms since the epoch). Runs inside
// a test's network namespace (ip netns exec NS node live-client.mjs URL).
// Environment: VIGIE_PASSWORD (log in with it; unset: no cookie), ORIGIN (sent on the upgrade;
// default: the server's own origin), SINCE (resume after this sequence number).
import WebSocket from 'ws';

const base = process.argv[2];
const password = process.env.VIGIE_PASSWORD;
let cookie = '';
if (password !== undefined) {
  const res = await fetch(new URL('/api/session', base), { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ password }) });
  process.stdout.write(JSON.stringify({ login: res.status, recv: Date.now() }) + '\n');
  cookie = (res.headers.get('set-cookie') ?? '').split(';')[0];
}
const url = new URL('/api/live', base.replace(/^http/, 'ws'));
if (process.env.SINCE) url.searchParams.set('since', process.env.SINCE);
const origin = process.env.ORIGIN ?? new URL(base).origin;
const ws = new WebSocket(url, { headers: cookie ? { Cookie: cookie } : {}, origin });
ws.on('unexpected-response', (_req, res) => {
  process.stdout.write(JSON.stringify({ refused: res.statusCode, recv: Date.now() }) + '\n');
  process.exit(0);
});
ws.on('open', () => process.stdout.write(JSON.stringify({ open: true, recv: Date.now() }) + '\n'));
ws.on('message', (data) => {
  const msg = JSON.parse(data.toString());
  // Stats come every second: only their sequence-free summary matters to tests.
  process.stdout.write(JSON.stringify({ recv: Date.now(), msg }) + '\n');
});
ws.on('close', (code) => {
  process.stdout.write(JSON.stringify({ closed: code, recv: Date.now() }) + '\n');
  process.exit(0);
});
ws.on('error', (e) => {
  process.stdout.write(JSON.stringify({ error: e.message, recv: Date.now() }) + '\n');
  process.exit(0);
});
