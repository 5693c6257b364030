// Paths in the address bar (/devices/…, /alerts/…): the daemon answers index.html for any path
// without an extension, so a reload or a shared link opens the same page.
export const route = $state({ path: location.pathname, query: new URLSearchParams(location.search) });

export function navigate(to: string, replace = false): void {
  const url = new URL(to, location.origin);
  if (url.pathname + url.search === location.pathname + location.search) return;
  if (replace) history.replaceState(null, '', url);
  else history.pushState(null, '', url);
  route.path = url.pathname;
  route.query = url.searchParams;
  window.scrollTo(0, 0);
}

/** The Segmentation page opened at one device (scrolled to, highlighted): alerts and devices link there. */
export function planHref(mac: string): string {
  // A MAC needs no escaping in a query (hex digits and colons): the address stays readable.
  return `/segmentation?device=${/^[0-9a-f:]+$/i.test(mac) ? mac : encodeURIComponent(mac)}`;
}

addEventListener('popstate', () => {
  route.path = location.pathname;
  route.query = new URLSearchParams(location.search);
});

/** Same-origin link clicks stay in the app (no reload, the live feed keeps going). */
export function link(node: HTMLAnchorElement): { destroy(): void } {
  const click = (e: MouseEvent) => {
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    const href = node.getAttribute('href');
    if (!href || !href.startsWith('/')) return;
    e.preventDefault();
    navigate(href);
  };
  node.addEventListener('click', click);
  return { destroy: () => node.removeEventListener('click', click) };
}
