/**
 * Whether a failed ledger write means "the database cannot be reached or cannot take writes right
 * now" (spool the rows and retry later) rather than "these rows are wrong" (retrying will not help).
 * Read from the error's `code` and message only: the core never imports a driver's types.
 */

/** Socket-level failures: the server is down, restarting, or the network between us is. */
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'EHOSTDOWN', 'ENETDOWN']);

// PostgreSQL SQLSTATE classes: 08 connection exception, 53 insufficient resources (disk full, too
// many connections), 57P0x the server shutting down or starting up, 40001/40P01 serialization or deadlock.
const PG_TRANSIENT = /^(08...|53...|57P0[1-4]|40001|40P01)$/;

// SQLite: the file is locked by another process past the busy timeout, or the disk failed or filled.
const SQLITE_TRANSIENT = /^SQLITE_(BUSY|LOCKED|IOERR|FULL|CANTOPEN|PROTOCOL|READONLY)/;

// pg reports a dropped or refused connection with these messages and no code.
const MESSAGES = /connection terminated|connection timeout|timeout exceeded when trying to connect|client has encountered a connection error|terminating connection|the database system is (starting up|shutting down)|cannot use a pool after calling end/i;

/** A write that took longer than the configured bound: treated like an unreachable database. */
export class LedgerWriteTimeout extends Error {
  override readonly name = 'LedgerWriteTimeout';
}

export function isOutage(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e !== null && typeof e === 'object' && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    if (e instanceof LedgerWriteTimeout) return true;
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && (NETWORK_CODES.has(code) || PG_TRANSIENT.test(code) || SQLITE_TRANSIENT.test(code))) return true;
    const message = (e as { message?: unknown }).message;
    if (typeof message === 'string' && MESSAGES.test(message)) return true;
    // AggregateError (a connect that tried IPv4 and IPv6) carries the socket errors inside.
    const inner = (e as { errors?: unknown }).errors;
    if (Array.isArray(inner) && inner.some((x) => isOutage(x))) return true;
  }
  return false;
}
