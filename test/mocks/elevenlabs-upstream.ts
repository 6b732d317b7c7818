/**
 * A mock ElevenLabs API on 127.0.0.1 (random port) speaking the real wire format. Use `mock.url`
 * as `network_config.base_url`.
 *
 *   POST /v1/text-to-speech/{voice_id}?output_format=...          the whole audio (audio/mpeg for mp3_*,
 *                                                                 audio/pcm for pcm_*, audio/opus for opus_*)
 *   POST /v1/text-to-speech/{voice_id}/stream?output_format=...   the same bytes, chunked as they are "made"
 * Body: {text, model_id, voice_settings?}; unknown voices get 404 voice_not_found, an unknown
 * output_format 422, an empty text 400. The audio is deterministic: a 4-byte tag of the format, then
 * the text's UTF-8 bytes repeated to 64 bytes per word, so tests can check what arrived.
 * Keys: `xi-api-key`; with `keys` set, others get 401 {"detail":{"status":"invalid_api_key","message":"Invalid API key"}}.
 * Faults (status N → {"detail":{"status","message"}}), recording, sockets: see mock-server.ts.
 */
import { startMockServer, type Dialect, type MockOptions, type MockUpstream, type RecordedRequest, type Reply } from './mock-server.js';
import { words } from './echo.js';

export type { Fault, MockUpstream, RecordedRequest } from './mock-server.js';

export const VOICES = ['JBFqnCBsd6RMkjVDRZzb', '21m00Tcm4TlvDq8ikWAM'];
const STATUS: Record<number, string> = { 400: 'invalid_request', 401: 'invalid_api_key', 404: 'not_found', 422: 'invalid_request', 429: 'too_many_concurrent_requests', 500: 'internal_error' };

function fail(status: number, message: string, code?: string): Reply {
  return { kind: 'json', status, body: { detail: { status: code ?? STATUS[status] ?? 'error', message } } };
}

/** The audio the mock "speaks" for a text: what a test can recompute. */
export function mockAudio(text: string, outputFormat: string): Buffer {
  const tag = Buffer.from(outputFormat.slice(0, 4).padEnd(4, '_'));
  const unit = Buffer.from(text, 'utf8');
  const len = Math.max(1, words(text)) * 64;
  const out = Buffer.alloc(len);
  for (let i = 0; i < len; i++) out[i] = unit[i % unit.length] as number;
  return Buffer.concat([tag, out]);
}

export async function startElevenLabsUpstream(opts: MockOptions = {}): Promise<MockUpstream> {
  const dialect: Dialect = {
    keyOf: (req) => (typeof req.headers['xi-api-key'] === 'string' ? req.headers['xi-api-key'] : undefined),
    authError: () => fail(401, 'Invalid API key', 'invalid_api_key'),
    errorBody: (status, message, type) => ({ detail: { status: type ?? STATUS[status] ?? 'error', message: message ?? `mock error ${status}` } }),
    // ElevenLabs has no error event inside an audio stream: a failure mid-way just ends the body.
    errorEvent: () => new Uint8Array(0),
    streamContentType: 'audio/mpeg',
    route(rec) {
      const m = /^\/v1\/text-to-speech\/([^/]+)(\/stream)?$/.exec(rec.path);
      if (rec.method !== 'POST' || !m) return fail(404, `Not found: ${rec.method} ${rec.path}`);
      return speak(rec, decodeURIComponent(m[1] as string), m[2] !== undefined);
    },
  };
  return startMockServer(dialect, opts);
}

function speak(rec: RecordedRequest, voice: string, stream: boolean): Reply {
  const b = rec.body as Record<string, any> | undefined;
  if (!b) return { kind: 'json', status: 422, body: { detail: [{ type: 'json_invalid', loc: ['body'], msg: 'JSON decode error' }] } };
  if (!VOICES.includes(voice)) return fail(404, `A voice with the voice_id ${voice} was not found.`, 'voice_not_found');
  for (const k of Object.keys(b)) {
    if (!['text', 'model_id', 'voice_settings', 'language_code', 'seed', 'previous_text', 'next_text', 'apply_text_normalization'].includes(k)) {
      return { kind: 'json', status: 422, body: { detail: [{ type: 'extra_forbidden', loc: ['body', k], msg: 'Extra inputs are not permitted' }] } };
    }
  }
  if (typeof b.text !== 'string' || b.text.length === 0) return fail(400, 'Text must not be empty.', 'empty_text');
  const format = rec.query.output_format ?? 'mp3_44100_128';
  const kind = /^(mp3|pcm|opus|ulaw|alaw)_/.exec(format)?.[1];
  if (!kind) return { kind: 'json', status: 422, body: { detail: [{ type: 'enum', loc: ['query', 'output_format'], msg: `Input should be a valid output format, got '${format}'` }] } };
  const audio = mockAudio(b.text, format);
  const contentType = kind === 'mp3' ? 'audio/mpeg' : `audio/${kind}`;
  if (!stream) return { kind: 'binary', body: audio, contentType };
  const parts: Uint8Array[] = [];
  for (let i = 0; i < audio.length; i += 64) parts.push(audio.subarray(i, i + 64));
  return { kind: 'sse', events: parts, endMarkers: 0, contentType };
}
