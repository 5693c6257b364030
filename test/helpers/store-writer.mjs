// Writes the daemon's store as fast as it can, forever, changing it each time: a test kills this
// process with SIGKILL at random moments and checks that the file is always readable.
// Usage: node store-writer.mjs STATE_DIR
import { Store } from '../../dist/store/store.js';

const store = Store.open(process.argv[2], { commitInterval: 0.001 });
const pad = 'x'.repeat(200);
for (let i = 0; ; i++) {
  const d = store.data;
  d.devices[`02:00:00:00:${String((i >> 8) & 255).padStart(2, '0').slice(-2)}:${String(i & 255).padStart(2, '0').slice(-2)}`] = { mac: '02:00:00:00:00:00', label: pad, firstSeen: new Date().toISOString(), lastSeen: new Date().toISOString() };
  d.settings.retention = { alertDays: 1 + (i % 100) };
  store.touch();
  await store.commit();
  if (i === 0) process.stdout.write('writing\n');
}
