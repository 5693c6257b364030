/**
 * Issue 16, item 13 (part): request bodies of the wrong shape get a 400 naming the field (an
 * object with a "toString" field gave a 500), and only application/json is parsed as JSON.
 */
import { expect, it } from 'vitest';
import { describeCorpus } from '../helpers/corpus.js';
import { daemonSession } from '../helpers/daemon-session.js';

describeCorpus('request body validation', () => {
  const session = daemonSession();
  const api = session.api.bind(session);


  it('answers 400 naming the field for objects where a country code goes, changing nothing', async () => {
    const before = (await api('/api/settings')).body;
    for (const body of [{ homeCountry: { toString: 1 } }, { homeCountry: { toString: 1, valueOf: 1 } }, { trustedCountries: [{ toString: 1 }] }, { homeCountry: ['FR'] }, { homeCountry: 33 }]) {
      const r = await api('/api/settings', { method: 'PUT', body: JSON.stringify(body) });
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body.error, JSON.stringify(body)).toMatch(/^(homeCountry|trustedCountries): .*ISO 3166-1/);
    }
    const after = (await api('/api/settings')).body;
    expect([after.homeCountry, after.trustedCountries]).toEqual([before.homeCountry, before.trustedCountries]);
  });

  it('parses only application/json (with or without parameters) as JSON', async () => {
    const body = JSON.stringify({ rule: 'x' });
    for (const type of ['application/json-evil', 'application/jsonp', 'application/json.evil', 'text/plain', 'application/x-www-form-urlencoded']) {
      const r = await api('/api/mutes', { method: 'POST', body, type });
      expect(r.status, type).toBe(415);
    }
    expect((await api('/api/mutes')).body).toEqual([]);
    for (const type of ['application/json', 'application/json; charset=utf-8', 'Application/JSON;charset=UTF-8']) {
      expect((await api('/api/mutes', { method: 'POST', body, type })).status, type).toBe(201);
    }
  });
});
