import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/**
 * Who may call the admin API. With a token: whoever presents it as `Authorization: Bearer <token>`.
 * Without one: only clients on a loopback address, so a fresh install is never open to the network.
 */
export interface AdminAuth {
  /** True when an admin token is configured. */
  readonly hasToken: boolean;
  /** null when allowed; otherwise why not (the message never echoes what was sent). */
  check(req: IncomingMessage): null | { status: 401 | 403; message: string };
}

export function createAdminAuth(token: string | undefined): AdminAuth {
  // Both sides hashed to 32 bytes: timingSafeEqual needs equal lengths, and the length of the
  // real token must not leak through an early length check either.
  const want = token ? sha256(token) : undefined;
  return {
    hasToken: want !== undefined,
    check(req) {
      if (want === undefined) {
        return isLoopback(req.socket.remoteAddress)
          ? null
          : { status: 403, message: 'the admin API answers only loopback clients when no admin.token is configured' };
      }
      const given = bearerOf(req.headers.authorization);
      if (given === undefined) return { status: 401, message: 'admin API: send the admin token as "Authorization: Bearer <token>"' };
      return timingSafeEqual(sha256(given), want) ? null : { status: 401, message: 'admin API: the admin token is not valid' };
    },
  };
}

function sha256(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}

function bearerOf(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return m ? m[1] : undefined;
}

export function isLoopback(addr: string | undefined): boolean {
  if (!addr) return false;
  if (addr === '::1') return true;
  const v4 = addr.startsWith('::ffff:') ? addr.slice(7) : addr;
  return v4.startsWith('127.');
}
