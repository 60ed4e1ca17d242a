import { getCookie } from 'hono/cookie';
import { HttpError } from '../errors.mjs';
import { SESSION_COOKIE, publicSession } from '../sessions.mjs';
import { ROUTES } from '../contract.mjs';
import { route } from './route.mjs';

export function sessionRoutes(app, { sessions }) {
  route(app, ROUTES.createSession, async (c) => {
    // A session belongs to the verified token's subject; the body carries only data.
    const session = await sessions.create({ userId: c.get('identity').sub, data: c.get('valid').body.data ?? {} });
    c.header('set-cookie', sessions.cookie(session));
    c.header('cache-control', 'no-store');
    return c.json({ session: publicSession(session) }, 201);
  });

  route(app, ROUTES.currentSession, async (c) => {
    const session = await sessions.get(getCookie(c, SESSION_COOKIE));
    c.header('cache-control', 'no-store');
    if (!session) throw new HttpError(401, 'no_session', `${SESSION_COOKIE}: no valid session cookie (absent, unknown or expired)`, { field: SESSION_COOKIE });
    return c.json({ session: publicSession(session) });
  });
}
