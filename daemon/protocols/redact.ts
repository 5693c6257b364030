/**
 * Captured secrets never leave the parser: a URL keeps its shape but loses the password of its
 * userinfo (RFC 3986 §3.2.1, deprecated there for this very reason) and the values of query
 * parameters that carry passwords, as camera CGI interfaces do (`?user=admin&pwd=...`).
 * What was removed is replaced by REDACTED so that a reader knows one was present.
 */
export const REDACTED = '<redacted>';

const SECRET_PARAM = /^(pass|passwd|password|pwd|pw|psw|passphrase|secret|token|access_token|auth|key|apikey|api_key|sig|signature)$/i;

export interface RedactedUrl {
  url: string;
  /** A password or secret parameter was present and removed. */
  secret: boolean;
}

export function redactUrl(raw: string): RedactedUrl {
  let url = raw;
  let secret = false;
  // scheme://user:password@host → scheme://user:<redacted>@host
  const m = /^([a-z][a-z0-9+.-]*:\/\/)([^/?#@]*)@/i.exec(url);
  if (m && m[2].includes(':')) {
    url = `${m[1]}${m[2].slice(0, m[2].indexOf(':'))}:${REDACTED}@${url.slice(m[0].length)}`;
    secret = true;
  }
  const q = url.indexOf('?');
  if (q >= 0) {
    const hash = url.indexOf('#', q);
    const end = hash < 0 ? url.length : hash;
    const params = url.slice(q + 1, end).split('&').map((p) => {
      const eq = p.indexOf('=');
      if (eq <= 0) return p;
      let name = p.slice(0, eq);
      try {
        name = decodeURIComponent(name);
      } catch {
        /* keep the raw name */
      }
      if (!SECRET_PARAM.test(name) || eq === p.length - 1) return p;
      secret = true;
      return `${p.slice(0, eq)}=${REDACTED}`;
    });
    url = `${url.slice(0, q + 1)}${params.join('&')}${url.slice(end)}`;
  }
  return { url, secret };
}
