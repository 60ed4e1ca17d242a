// The waiting room's tickets and passes: HMAC-SHA256 tokens (the primitive a CloudFront Function can check too).
//   v1.<base64url(JSON payload)>.<base64url(HMAC(secret, "v1." + payload))>
//   ticket: { k: 't', sku, sub, arr }              pass: { k: 'p', sku, sub, arr, exp }
import { createHmac, timingSafeEqual } from 'node:crypto';

const b64 = (buf) => Buffer.from(buf).toString('base64url');

export class TokenError extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

/** Signs with `secret`; verifies with it or any of `older` (keys before a rotation). */
export class Signer {
  constructor(secret, older = []) {
    for (const s of [secret, ...older]) {
      if (typeof s !== 'string' || Buffer.byteLength(s) < 32) throw new Error('waiting room secret: at least 32 bytes');
    }
    this.key = Buffer.from(secret);
    this.keys = [this.key, ...older.map((s) => Buffer.from(s))];
  }

  mac(body, key = this.key) {
    return createHmac('sha256', key).update(`v1.${body}`).digest();
  }

  sign(payload) {
    const body = b64(JSON.stringify(payload));
    return `v1.${body}.${b64(this.mac(body))}`;
  }

  /** The payload of a token this key signed, or TokenError('invalid'). */
  open(token) {
    if (typeof token !== 'string' || token.length > 1024) throw new TokenError('invalid', 'not a token of this waiting room');
    const parts = token.split('.');
    if (parts.length !== 3 || parts[0] !== 'v1') throw new TokenError('invalid', 'not a token of this waiting room');
    const given = Buffer.from(parts[2], 'base64url');
    const matches = (key) => {
      const want = this.mac(parts[1], key);
      return given.length === want.length && timingSafeEqual(given, want);
    };
    if (!this.keys.some(matches)) throw new TokenError('invalid', 'signature does not match');
    try {
      return JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
    } catch {
      throw new TokenError('invalid', 'unreadable payload');
    }
  }
}
