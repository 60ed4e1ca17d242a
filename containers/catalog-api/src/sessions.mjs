// Sessions live in the DynamoDB sessions table, so any execution environment
// (any Lambda instance behind the ALB or API Gateway) can serve any request:
// "sticky sessions" here means the cookie carries the id and the state is shared,
// not that a client is pinned to one server.
import { randomBytes } from 'node:crypto';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';

export const SESSION_COOKIE = 'catalog_session';
const SESSION_ID = /^[A-Za-z0-9_-]{43}$/; // 32 random bytes, base64url

export class SessionStore {
  constructor({ doc, table, ttlSeconds }) {
    Object.assign(this, { doc, table, ttlSeconds });
  }

  async create({ userId, data }) {
    const now = Date.now();
    const session = {
      sessionId: randomBytes(32).toString('base64url'),
      createdAt: now,
      // Epoch seconds: the table's TTL attribute. Rounded up so a session never
      // ends before its advertised lifetime.
      expiresAt: Math.ceil(now / 1000) + this.ttlSeconds,
      // Kept as the JSON text: a client's data is any JSON object, and DynamoDB's native types are narrower (numbers
      // past 2^53 or below 1e-130, nesting past 32 levels, lone UTF-16 surrogates all fail the write).
      data: JSON.stringify(data),
    };
    if (userId) session.userId = userId; // only sessions with a user appear in the byUser index
    await this.doc.send(new PutCommand({
      TableName: this.table,
      Item: session,
      ConditionExpression: 'attribute_not_exists(sessionId)',
    }));
    return { ...session, data };
  }

  /** undefined when unknown or expired (TTL deletion is lazy, so check it here). */
  async get(sessionId) {
    if (typeof sessionId !== 'string' || !SESSION_ID.test(sessionId)) return undefined;
    const { Item } = await this.doc.send(new GetCommand({ TableName: this.table, Key: { sessionId }, ConsistentRead: true }));
    if (!Item || Item.expiresAt <= Date.now() / 1000) return undefined;
    return Item;
  }

  /** Max-Age is the TTL: the browser drops the cookie no later than the server forgets the session. */
  cookie(session) {
    return `${SESSION_COOKIE}=${session.sessionId}; Max-Age=${this.ttlSeconds}; Path=/; HttpOnly; Secure; SameSite=Lax`;
  }
}

// The id stays out of the body: it travels only in the HttpOnly cookie.
export function publicSession(item) {
  return {
    userId: item.userId ?? null,
    data: typeof item.data === 'string' ? JSON.parse(item.data) : (item.data ?? {}), // a map: written before data was text
    createdAt: new Date(item.createdAt).toISOString(),
    expiresAt: new Date(item.expiresAt * 1000).toISOString(),
  };
}
