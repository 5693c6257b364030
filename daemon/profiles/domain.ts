/**
 * The registrable domain of a host name (the public suffix and one label more), for grouping a
 * device's destinations: `a1.tuyaeu.com` and `m1.tuyaeu.com` are one vendor cloud. Not the
 * whole Public Suffix List (publicsuffix.org, 200 KB): the second-level suffixes of the countries
 * whose registries sell names under them, which is what vendor clouds use; a name under another
 * multi-label suffix groups one label too high, which only affects display.
 */
const SECOND_LEVEL = new Set([
  // ccTLDs with second-level registrations (Public Suffix List, ICANN section)
  'co.uk', 'org.uk', 'ac.uk', 'gov.uk', 'me.uk', 'ltd.uk', 'plc.uk', 'net.uk',
  'com.cn', 'net.cn', 'org.cn', 'gov.cn', 'edu.cn',
  'com.au', 'net.au', 'org.au', 'edu.au', 'gov.au',
  'co.jp', 'ne.jp', 'or.jp', 'ac.jp', 'go.jp',
  'co.kr', 'or.kr', 'ne.kr', 'com.tw', 'net.tw', 'org.tw', 'com.hk', 'net.hk', 'org.hk',
  'com.br', 'net.br', 'org.br', 'com.mx', 'com.ar', 'com.tr', 'com.sg', 'com.my', 'co.in', 'net.in',
  'co.nz', 'co.za', 'co.il', 'com.ru', 'com.ua', 'com.vn', 'co.id', 'or.id', 'com.ph', 'com.pl',
  // hosting suffixes that vendors' device endpoints sit under (PSL, PRIVATE section)
  'amazonaws.com', 'cloudfront.net', 'azure-devices.net', 'azurewebsites.net', 'appspot.com',
  'herokuapp.com', 'firebaseio.com', 'aliyuncs.com', 'myqcloud.com',
]);

export function registrableDomain(host: string): string | null {
  const name = host.toLowerCase().replace(/\.$/, '');
  if (name === '' || /^[0-9.]+$/.test(name) || name.includes(':')) return null;
  const labels = name.split('.');
  if (labels.length < 2) return name;
  for (let n = Math.min(4, labels.length - 1); n >= 2; n--) {
    const suffix = labels.slice(-n).join('.');
    if (SECOND_LEVEL.has(suffix)) return labels.length > n ? labels.slice(-(n + 1)).join('.') : name;
  }
  return labels.slice(-2).join('.');
}
