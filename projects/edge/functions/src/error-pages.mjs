// The site's error pages inside the origin-response package (error-pages/<file>, beside the
// handlers), read once at module init. Kept apart from the handler so the build script can use
// the names without running the handler's init.
import { readFileSync } from 'node:fs';

// Where build-zip.mjs (and the Python bundle) put the site's error pages inside the zip.
export const ERROR_PAGES_DIR = 'error-pages';
export const ERROR_PAGE_FILES = Object.freeze(['403.html', '404.html', '5xx.html']);

// Used only if a page file is missing from the zip: a plain page is better than an S3 XML error.
const FALLBACK_PAGE = (title) =>
  `<!doctype html>\n<html lang="en">\n<head><meta charset="utf-8"><title>${title}</title></head>\n` +
  `<body><h1>${title}</h1><p><a href="/">Back to the catalog</a></p></body>\n</html>\n`;
export const FALLBACK_PAGES = Object.freeze({
  '403.html': FALLBACK_PAGE('Access denied'),
  '404.html': FALLBACK_PAGE('Not found'),
  '5xx.html': FALLBACK_PAGE('Something went wrong'),
});

/** Reads the bundled pages once (module init); a missing file falls back to a plain page. */
export function loadErrorPages(dirUrl = new URL(`./${ERROR_PAGES_DIR}/`, import.meta.url)) {
  const pages = {};
  const missing = [];
  for (const name of ERROR_PAGE_FILES) {
    try {
      pages[name] = readFileSync(new URL(name, dirUrl), 'utf8');
    } catch {
      pages[name] = FALLBACK_PAGES[name];
      missing.push(name);
    }
  }
  return { pages: Object.freeze(pages), missing };
}

/** The page a site error shows: 403 its own, other 4xx the not-found page, 5xx the 5xx page. */
export function pageFor(status) {
  if (status === 403) return '403.html';
  return status >= 500 ? '5xx.html' : '404.html';
}

