import type { Readable } from 'node:stream';
import { JsonBytes } from '../../schema/bytes.js';
import { GatewayError } from '../../schema/errors.js';
import type { LLMRequest, RequestType } from '../../schema/request.js';
import { StreamChunk } from '../../schema/stream.js';
import type { ProviderAdapter, ProviderCall, ProviderResult } from '../provider.js';
import { toGatewayError, type UpstreamResponse } from '../upstream-client.js';
import { numberParam } from '../translate/params.js';
import { upstreamStatusError, type ErrorDialect } from '../translate/upstream-error.js';

/**
 * ElevenLabs text to speech: `/v1/audio/speech` requests become
 * `POST /v1/text-to-speech/{voice_id}` (whole audio) or `.../stream` (audio bytes as they are
 * made, relayed as `speech.audio.delta` events). The model is ElevenLabs' `model_id`, the voice
 * its voice id (or a name mapped by `meta_config.voices`); the key travels in `xi-api-key`.
 */
const OUTPUT_FORMAT: Record<string, string> = {
  mp3: 'mp3_44100_128',
  opus: 'opus_48000_128',
  // OpenAI's pcm is 24 kHz 16-bit little-endian mono, which ElevenLabs' pcm_24000 is too.
  pcm: 'pcm_24000',
};

/** `{"detail":{"status","message"}}`, or FastAPI's validation list `{"detail":[{"loc","msg"}]}`. */
export const elevenLabsErrorDialect: ErrorDialect = (body) => {
  const detail = (body as { detail?: unknown } | null)?.detail;
  if (typeof detail === 'string') return { message: detail };
  if (Array.isArray(detail)) {
    return { message: detail.map((d: { loc?: unknown[]; msg?: unknown }) => `${Array.isArray(d?.loc) ? d.loc.join('.') : ''}: ${String(d?.msg ?? '')}`).join('; ') };
  }
  const d = (detail ?? {}) as { status?: unknown; message?: unknown };
  return { message: typeof d.message === 'string' ? d.message : undefined, code: typeof d.status === 'string' ? d.status : null };
};

export class ElevenLabsAdapter implements ProviderAdapter {
  readonly kind = 'elevenlabs';
  readonly defaultBaseUrl = 'https://api.elevenlabs.io';
  readonly requiresKey = true;

  supports(_type: RequestType): boolean {
    return false;
  }

  async send(req: LLMRequest): Promise<ProviderResult> {
    throw new GatewayError('GH_ERR_UNSUPPORTED_OPERATION', `provider "${this.kind}" does not support ${req.request_type} requests (it serves /v1/audio/speech)`, { provider: this.kind, allowFallbacks: true });
  }

  async speech(req: LLMRequest, call: ProviderCall): Promise<ProviderResult> {
    const text = req.input;
    if (typeof text !== 'string' || text.length === 0) {
      throw new GatewayError('GH_ERR_INVALID_REQUEST', `${this.kind}: 'input' must be the text to speak`, { provider: this.kind, param: 'input' });
    }
    const voiceName = req.params.voice;
    const voices = (call.meta.voices ?? {}) as Record<string, string>;
    const voice = typeof voiceName === 'string' ? voices[voiceName] ?? voiceName : undefined;
    if (!voice) throw new GatewayError('GH_ERR_INVALID_REQUEST', `${this.kind}: 'voice' must name an ElevenLabs voice id (or a name in meta_config.voices)`, { provider: this.kind, param: 'voice' });
    const fmt = typeof req.params.response_format === 'string' ? req.params.response_format : 'mp3';
    const outputFormat = OUTPUT_FORMAT[fmt];
    if (!outputFormat) {
      throw new GatewayError('GH_ERR_INVALID_REQUEST', `${this.kind}: response_format "${fmt}" is not available; use ${Object.keys(OUTPUT_FORMAT).join(', ')}`, { provider: this.kind, param: 'response_format' });
    }
    const body: Record<string, unknown> = { text, model_id: req.model };
    const speed = numberParam(req.params, 'speed');
    if (speed !== undefined) body.voice_settings = { speed };
    const stream = req.params.stream === true || req.params.stream_format === 'sse';
    const base = (call.network.baseUrl || this.defaultBaseUrl).replace(/\/+$/, '').replace(/\/v1$/, '');
    const url = `${base}/v1/text-to-speech/${encodeURIComponent(voice)}${stream ? '/stream' : ''}?output_format=${outputFormat}`;
    const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'audio/*', ...call.network.extraHeaders };
    if (call.key.value) headers['xi-api-key'] = call.key.value;
    const res = await call.http.request({
      url, headers, body: JSON.stringify(body), signal: call.signal,
      headersTimeoutMs: call.network.requestTimeoutMs,
      bodyTimeoutMs: stream ? call.network.streamIdleTimeoutMs : call.network.requestTimeoutMs,
      provider: this.kind,
    });
    if (res.status < 200 || res.status > 299) throw await upstreamStatusError(res, this.kind, elevenLabsErrorDialect);
    const contentType = headerOf(res, 'content-type') ?? (fmt === 'mp3' ? 'audio/mpeg' : `audio/${fmt}`);
    if (stream) return { kind: 'stream', stream: audioEvents(res, this.kind, text.length) };
    let audio: Buffer;
    try {
      audio = Buffer.from(await res.body.arrayBuffer());
    } catch (err) {
      throw toGatewayError(err, this.kind);
    }
    if (audio.length === 0) throw new GatewayError('GH_ERR_UPSTREAM_BAD_RESPONSE', `${this.kind}: upstream answered with no audio`, { provider: this.kind, retryable: true });
    return { kind: 'response', response: { speech_response: { audio: JsonBytes.wrap(audio), content_type: contentType } } };
  }
}

/**
 * The audio body as `speech.audio.delta` events (base64, as OpenAI streams speech) and a closing
 * `speech.audio.done`. Chunks are read one at a time as the client takes them (backpressure).
 * ElevenLabs bills characters, so usage counts input characters.
 */
async function* audioEvents(res: UpstreamResponse, provider: string, chars: number): AsyncGenerator<StreamChunk> {
  const body = res.body as unknown as Readable;
  let bytes = 0;
  try {
    for await (const chunk of body) {
      const buf = chunk as Buffer;
      bytes += buf.length;
      yield StreamChunk.fromValue({ type: 'speech.audio.delta', audio: buf.toString('base64') });
    }
  } catch (err) {
    throw toGatewayError(err, provider);
  }
  if (bytes === 0) throw new GatewayError('GH_ERR_UPSTREAM_BAD_RESPONSE', `${provider}: stream ended with no audio`, { provider, retryable: true });
  yield StreamChunk.fromValue({ type: 'speech.audio.done', usage: { input_tokens: chars, output_tokens: 0, total_tokens: chars } });
}

function headerOf(res: UpstreamResponse, name: string): string | undefined {
  const v = res.headers[name];
  return Array.isArray(v) ? v[0] : v;
}
