/**
 * Reads an OTLP/HTTP JSON trace export (`ExportTraceServiceRequest`) into flat spans with plain
 * attribute maps. Only what pricing needs is read; a malformed envelope throws `invalid_request`,
 * a malformed span is returned with the reason so the rest of the export still lands.
 *
 * https://opentelemetry.io/docs/specs/otlp/#json-protobuf-encoding — ids are hex strings, 64-bit
 * integers may arrive as JSON strings or numbers, field names are lowerCamelCase.
 */
import { TollgateError } from '../../domain/errors.ts';

export type AttrValue = string | number | bigint | boolean;
export type Attrs = ReadonlyMap<string, AttrValue>;

export interface OtlpSpan {
  traceId: string;
  spanId: string;
  name: string;
  startNano: bigint;
  endNano: bigint;
  /** OTLP status code: 0 unset, 1 ok, 2 error. */
  statusCode: number;
  attributes: Attrs;
  resource: Attrs;
}

export type ReadSpan = { ok: true; span: OtlpSpan } | { ok: false; reason: string };

const TRACE_ID = /^[0-9a-f]{32}$/i;
const SPAN_ID = /^[0-9a-f]{16}$/i;
const UNSIGNED = /^\d{1,20}$/;
const SIGNED = /^-?\d{1,20}$/;

/** Every span of the export, resource by resource, in order. */
export function readExport(body: unknown): ReadSpan[] {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new TollgateError('invalid_request', 'send an OTLP ExportTraceServiceRequest as a JSON object: {"resourceSpans": [...]}');
  }
  const resourceSpans = (body as Record<string, unknown>)['resourceSpans'];
  if (resourceSpans === undefined) return [];
  const out: ReadSpan[] = [];
  for (const [i, rs] of list(resourceSpans, 'resourceSpans').entries()) {
    const where = `resourceSpans[${i}]`;
    const r = object(rs, where);
    const resource = r['resource'] === undefined ? new Map<string, AttrValue>() : attributes(object(r['resource'], `${where}.resource`)['attributes'], `${where}.resource.attributes`);
    for (const [j, ss] of list(r['scopeSpans'] ?? [], `${where}.scopeSpans`).entries()) {
      for (const [k, s] of list(object(ss, `${where}.scopeSpans[${j}]`)['spans'] ?? [], `${where}.scopeSpans[${j}].spans`).entries()) {
        out.push(readSpan(s, resource, `${where}.scopeSpans[${j}].spans[${k}]`));
      }
    }
  }
  return out;
}

function readSpan(raw: unknown, resource: Attrs, where: string): ReadSpan {
  try {
    const s = object(raw, where);
    const traceId = s['traceId'];
    const spanId = s['spanId'];
    if (typeof traceId !== 'string' || !TRACE_ID.test(traceId) || /^0+$/.test(traceId)) throw new TollgateError('invalid_request', `${where}.traceId must be 32 hex digits, not all zero`);
    if (typeof spanId !== 'string' || !SPAN_ID.test(spanId) || /^0+$/.test(spanId)) throw new TollgateError('invalid_request', `${where}.spanId must be 16 hex digits, not all zero`);
    const startNano = nanos(s['startTimeUnixNano'], `${where}.startTimeUnixNano`);
    const endNano = nanos(s['endTimeUnixNano'], `${where}.endTimeUnixNano`);
    if (startNano === 0n) throw new TollgateError('invalid_request', `${where}.startTimeUnixNano is missing or 0`);
    if (endNano < startNano) throw new TollgateError('invalid_request', `${where} ends before it starts`);
    const status = s['status'] === undefined ? {} : object(s['status'], `${where}.status`);
    const code = status['code'] ?? 0;
    const statusCode = typeof code === 'number' ? code : code === 'STATUS_CODE_ERROR' ? 2 : code === 'STATUS_CODE_OK' ? 1 : 0;
    const name = typeof s['name'] === 'string' ? s['name'] : '';
    return { ok: true, span: { traceId: traceId.toLowerCase(), spanId: spanId.toLowerCase(), name, startNano, endNano, statusCode, attributes: attributes(s['attributes'], `${where}.attributes`), resource } };
  } catch (err) {
    if (err instanceof TollgateError) return { ok: false, reason: err.message };
    throw err;
  }
}

/** `[{ key, value: { stringValue | intValue | doubleValue | boolValue } }]`; arrays, maps and bytes are skipped (nothing priced reads them). */
function attributes(raw: unknown, where: string): Map<string, AttrValue> {
  const out = new Map<string, AttrValue>();
  if (raw === undefined) return out;
  for (const [i, kv] of list(raw, where).entries()) {
    const a = object(kv, `${where}[${i}]`);
    const key = a['key'];
    if (typeof key !== 'string') throw new TollgateError('invalid_request', `${where}[${i}].key must be a string`);
    if (a['value'] === undefined || a['value'] === null) continue;
    const v = object(a['value'], `${where}[${i}].value`);
    if (typeof v['stringValue'] === 'string') out.set(key, v['stringValue']);
    else if (typeof v['boolValue'] === 'boolean') out.set(key, v['boolValue']);
    else if (typeof v['doubleValue'] === 'number') out.set(key, v['doubleValue']);
    else if (v['intValue'] !== undefined) out.set(key, int(v['intValue'], `${where}[${i}].value.intValue`));
  }
  return out;
}

function int(v: unknown, where: string): bigint {
  if (typeof v === 'number' && Number.isSafeInteger(v)) return BigInt(v);
  if (typeof v === 'string' && SIGNED.test(v)) return BigInt(v);
  throw new TollgateError('invalid_request', `${where} must be an integer (a JSON number or a string of digits)`);
}

function nanos(v: unknown, where: string): bigint {
  if (v === undefined) return 0n;
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0) return BigInt(v);
  if (typeof v === 'string' && UNSIGNED.test(v)) return BigInt(v);
  throw new TollgateError('invalid_request', `${where} must be nanoseconds since the epoch (a string of digits)`);
}

function object(v: unknown, where: string): Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new TollgateError('invalid_request', `${where} must be a JSON object`);
  return v as Record<string, unknown>;
}

function list(v: unknown, where: string): unknown[] {
  if (!Array.isArray(v)) throw new TollgateError('invalid_request', `${where} must be a JSON array`);
  return v;
}
