/**
 * Issue 16, item 11: mute end times are compared as times, not as text (a mute "forever", a year
 * past 9999, sorts before "2026-…" as text and was pruned at the next housekeeping), and the API
 * takes only ISO 8601 (Date.parse alone took "1" for 2001).
 */
import { expect, it } from 'vitest';
import { describeCorpus } from '../helpers/corpus.js';
import { daemonSession } from '../helpers/daemon-session.js';

describeCorpus('mute end times', () => {
  const session = daemonSession();
  const api = session.api.bind(session);


  it('keeps a mute that ends after the year 9999 through housekeeping, and it mutes', async () => {
    const a = (await api('/api/alerts')).body[0];
    const m = await api('/api/mutes', { method: 'POST', body: JSON.stringify({ rule: a.rule, until: '+275760-09-13T00:00:00Z' }) });
    expect(m.status).toBe(201);
    session.daemon.housekeeping();
    expect((await api('/api/mutes')).body.map((x: { id: string }) => x.id)).toContain(m.body.id);
    expect((await api(`/api/alerts/${a.id}`)).body.muted).toBe(true);
    const m2 = await api('/api/mutes', { method: 'POST', body: JSON.stringify({ rule: a.rule, until: '+010000-01-01' }) });
    expect(m2.status).toBe(201);
    session.daemon.housekeeping();
    expect((await api('/api/mutes')).body.map((x: { id: string }) => x.id)).toContain(m2.body.id);
  });

  it('still prunes a mute that has ended', async () => {
    const m = await api('/api/mutes', { method: 'POST', body: JSON.stringify({ rule: 'x', until: '2001-01-01' }) });
    expect(m.status).toBe(201);
    session.daemon.housekeeping();
    expect((await api('/api/mutes')).body.map((x: { id: string }) => x.id)).not.toContain(m.body.id);
  });

  it('refuses end times that are not ISO 8601, or not a day of the calendar, changing nothing', async () => {
    const before = (await api('/api/mutes')).body.length;
    for (const until of ['1', '12', 'March 3, 2027', '2027/01/01', '2026-02-30', '2026-12-31T23:00', '2026-13-01']) {
      const r = await api('/api/mutes', { method: 'POST', body: JSON.stringify({ rule: 'x', until }) });
      expect(r.status, until).toBe(400);
      expect(r.body.error ?? r.body, until).toMatch(/until/);
    }
    expect((await api('/api/mutes')).body.length).toBe(before);
    expect((await api('/api/mutes', { method: 'POST', body: JSON.stringify({ rule: 'x', until: "2030-06-01T12:00:00+02:00" }) })).status).toBe(201);
  });
});
