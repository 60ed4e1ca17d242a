// Origin-response trigger on every behavior: adds the security headers to each origin reply
// (cached with it, so the function runs once per cache miss) and drops fingerprinting headers.
import { REMOVED_RESPONSE_HEADERS, SECURITY_HEADERS, applySecurityHeaders } from './security-headers.mjs';

export { REMOVED_RESPONSE_HEADERS, SECURITY_HEADERS };

export async function handler(event) {
  const response = event?.Records?.[0]?.cf?.response;
  // Without a response object there is nothing to decorate; returning it unchanged keeps the
  // failure CloudFront's (a 502), which is the honest outcome for a malformed event.
  if (!response || typeof response !== 'object') return response;
  try {
    if (!response.headers || typeof response.headers !== 'object') response.headers = {};
    for (const name of Object.keys(response.headers)) {
      if (REMOVED_RESPONSE_HEADERS.includes(name.toLowerCase())) delete response.headers[name];
    }
    // Origin-sent values of these headers are replaced: the edge owns the policy.
    applySecurityHeaders(response.headers);
  } catch (err) {
    console.error(`catalog-edge origin-response: headers not applied: ${err?.message}`);
  }
  return response;
}
