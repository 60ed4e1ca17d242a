// The waiting room for a browser: GET /api/products/{sku}/queue with Accept: text/html answers this page instead of
// the JSON. It shows the shopper's position and estimated wait at the time of the request and then polls the JSON
// answer of the same URL itself, when the previous answer's Retry-After says, with the shopper's ticket; once
// admitted it shows that the pass is ready and keeps it in sessionStorage ("catalog.admissionPass.<sku>") for the
// storefront's reservation call. The bearer token is the storefront's: the script sends the one it finds in
// sessionStorage ("catalog.accessToken"), as the storefront's own API calls do.
//
// The script is a constant (the page's data is in data- attributes, HTML-escaped), so a Content-Security-Policy
// with its hash allows it and nothing else: no other script, style only inline, connections to this origin only.
import { createHash } from 'node:crypto';

const SCRIPT = `(() => {
  const room = document.getElementById('room');
  const { sku, ticket } = room.dataset;
  const show = (id, text) => { document.getElementById(id).textContent = text; };
  const render = (b) => {
    if (b.admitted) { show('position', 'It is your turn'); show('wait', 'Your admission pass is ready until ' + b.passExpiresAt); return; }
    if (b.position === null) { show('position', 'The queue opens at ' + b.opensAt); show('wait', 'Places in line are drawn at random then'); return; }
    show('position', 'You are number ' + b.position + ' in line');
    show('wait', 'Estimated wait: about ' + b.estimatedWaitSeconds + ' s');
  };
  async function poll() {
    let delay = 5;
    try {
      const token = sessionStorage.getItem('catalog.accessToken');
      const headers = { accept: 'application/json', 'x-queue-ticket': ticket };
      if (token) headers.authorization = 'Bearer ' + token;
      const res = await fetch(location.pathname, { headers, cache: 'no-store' });
      delay = Number(res.headers.get('retry-after')) || delay;
      const body = await res.json();
      if (!res.ok) { show('wait', body.message || 'The queue answered ' + res.status); if (res.status !== 503 && res.status !== 429) return; }
      else {
        render(body);
        if (body.admitted) { sessionStorage.setItem('catalog.admissionPass.' + sku, body.pass); return; }
      }
    } catch { /* network: try again later */ }
    setTimeout(poll, delay * 1000);
  }
  setTimeout(poll, Number(room.dataset.retryAfter) * 1000);
})();`;

export const SCRIPT_HASH = `sha256-${createHash('sha256').update(SCRIPT).digest('base64')}`;
export const PAGE_CSP = `default-src 'none'; script-src '${SCRIPT_HASH}'; style-src 'unsafe-inline'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`;

const escapeHtml = (text) => String(text).replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);

/** Whether the client asked for a page: a browser's navigation (text/html before any JSON). */
export function wantsHtml(accept = '') {
  const html = accept.indexOf('text/html');
  const json = accept.indexOf('application/json');
  return html !== -1 && (json === -1 || html < json);
}

/** The page for a shopper's standing (body: what the JSON answer carries). */
export function queuePage(body) {
  const position = body.admitted ? 'It is your turn' : body.position === null ? `The queue opens at ${body.opensAt}` : `You are number ${body.position} in line`;
  const wait = body.admitted ? `Your admission pass is ready until ${body.passExpiresAt}`
    : body.position === null ? 'Places in line are drawn at random then' : `Estimated wait: about ${body.estimatedWaitSeconds} s`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Waiting room: ${escapeHtml(body.sku)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem}#position{font-size:1.6rem}</style></head>
<body><main id="room" data-sku="${escapeHtml(body.sku)}" data-ticket="${escapeHtml(body.ticket)}" data-retry-after="${escapeHtml(body.retryAfterSeconds ?? 0)}">
<h1>Waiting room: ${escapeHtml(body.sku)}</h1>
<p id="position">${escapeHtml(position)}</p>
<p id="wait">${escapeHtml(wait)}</p>
<p>Keep this page open: it updates itself. Reloading it does not change your place.</p>
</main><script>${SCRIPT}</script></body></html>`;
}
