import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ElevenLabsAdapter } from '../../../packages/gateway/src/providers/elevenlabs/adapter.js';
import { MistralAdapter } from '../../../packages/gateway/src/providers/mistral/adapter.js';
import type { ChatCompletionChunk } from '../../../packages/gateway/src/schema/openai.js';
import { mockAudio, startElevenLabsUpstream, VOICES } from '../../mocks/elevenlabs-upstream.js';
import { startMistralUpstream } from '../../mocks/mistral-upstream.js';
import type { MockUpstream } from '../../mocks/mock-server.js';
import { callFor, chat, chatReq, collect, http, rejection, req, response, streamedText } from './helpers.js';

after(async () => { await http.close(); });

describe('mistral', () => {
  const adapter = new MistralAdapter();
  let mock: MockUpstream;
  before(async () => { mock = await startMistralUpstream({ keys: ['mi-key'] }); });
  beforeEach(() => mock.reset());
  after(async () => { await mock.close(); });
  const call = (key = 'mi-key') => callFor(mock.url, { key });

  test('chat: seed → random_seed, max_completion_tokens → max_tokens, stream_options and user dropped', async () => {
    const out = chat(await adapter.send(chatReq([{ role: 'user', content: 'bonjour' }], { seed: 3, max_completion_tokens: 50, user: 'u1', temperature: 0.2 }, 'mistral-small-latest'), call()));
    const b = mock.requests[0]!.body;
    assert.equal(b.random_seed, 3);
    assert.equal(b.max_tokens, 50);
    assert.equal(b.seed, undefined);
    assert.equal(b.user, undefined);
    assert.equal(out.choices[0]?.message.content, 'Echo: bonjour');
    const s = await collect(await adapter.send(chatReq([{ role: 'user', content: 'stream it' }], { stream: true, stream_options: { include_usage: true } }, 'mistral-small-latest'), call()));
    assert.equal(mock.requests[1]!.body.stream_options, undefined);
    assert.equal(streamedText(s.chunks as ChatCompletionChunk[]), 'Echo: stream it');
  });

  test('embeddings: dimensions → output_dimension', async () => {
    const out = response(await adapter.send(req('embedding', ['a', 'b'], { dimensions: 4, encoding_format: 'float' }, 'mistral-embed'), call())).embedding_response!;
    assert.equal(mock.requests[0]!.body.output_dimension, 4);
    assert.equal(mock.requests[0]!.body.dimensions, undefined);
    assert.equal(out.data.length, 2);
    assert.equal((out.data[0]!.embedding as number[]).length, 4);
  });

  test('errors in Mistral\'s shape: message, type and code; validation details read', async () => {
    mock.enqueue({ status: 429, message: 'Requests rate limit exceeded' });
    const limited = await rejection(adapter.send(chatReq([{ role: 'user', content: 'x' }]), call()));
    assert.equal(limited.status, 429);
    assert.match(limited.message, /Requests rate limit exceeded/);
    assert.equal(limited.type, 'rate_limit_error');
    assert.equal(limited.upstreamCode, '1300');
    mock.enqueue({ status: 422, body: { object: 'error', message: { detail: [{ type: 'missing', loc: ['body', 'messages'], msg: 'Field required' }] }, type: 'invalid_request_error', param: null, code: null } });
    const invalid = await rejection(adapter.send(chatReq([{ role: 'user', content: 'x' }]), call()));
    assert.equal(invalid.status, 422);
    assert.match(invalid.message, /body\.messages: Field required/);
    const auth = await rejection(adapter.send(chatReq([{ role: 'user', content: 'x' }]), call('nope')));
    assert.equal(auth.status, 401);
    assert.match(auth.message, /Unauthorized/);
  });
});

describe('elevenlabs', () => {
  const adapter = new ElevenLabsAdapter();
  let mock: MockUpstream;
  before(async () => { mock = await startElevenLabsUpstream({ keys: ['xi-key'], chunkDelayMs: 10 }); });
  beforeEach(() => mock.reset());
  after(async () => { await mock.close(); });
  const call = (key = 'xi-key') => {
    const c = callFor(mock.url, { key });
    c.meta = { voices: { alloy: VOICES[0] } };
    return c;
  };

  test('speech: voice id (or mapped name) in the URL, model_id and speed in the body, the whole audio back', async () => {
    const out = response(await adapter.speech(req('speech', 'Hello there world', { voice: 'alloy', speed: 1.1 }, 'eleven_multilingual_v2'), call())).speech_response!;
    const rec = mock.requests[0]!;
    assert.equal(rec.path, `/v1/text-to-speech/${VOICES[0]}`);
    assert.equal(rec.query.output_format, 'mp3_44100_128');
    assert.equal(rec.headers['xi-api-key'], 'xi-key');
    assert.deepEqual(rec.body, { text: 'Hello there world', model_id: 'eleven_multilingual_v2', voice_settings: { speed: 1.1 } });
    assert.equal(out.content_type, 'audio/mpeg');
    assert.deepEqual(Buffer.from(out.audio as Uint8Array), mockAudio('Hello there world', 'mp3_44100_128'));
  });

  test('streaming speech: the /stream endpoint, audio as speech.audio.delta events, then done with usage', async () => {
    const r = await adapter.speech(req('speech', 'one two three four', { voice: VOICES[1], response_format: 'pcm', stream_format: 'sse' }, 'eleven_flash_v2_5'), call());
    assert.equal(r.kind, 'stream');
    assert.equal(mock.requests[0]!.path, `/v1/text-to-speech/${VOICES[1]}/stream`);
    assert.equal(mock.requests[0]!.query.output_format, 'pcm_24000');
    const events: any[] = [];
    if (r.kind === 'stream') for await (const e of r.stream) events.push(e.value);
    const deltas = events.filter((e) => e.type === 'speech.audio.delta');
    assert.ok(deltas.length > 1);
    assert.deepEqual(Buffer.concat(deltas.map((e) => Buffer.from(e.audio, 'base64'))), mockAudio('one two three four', 'pcm_24000'));
    assert.deepEqual(events.at(-1), { type: 'speech.audio.done', usage: { input_tokens: 18, output_tokens: 0, total_tokens: 18 } });
  });

  test('errors: ElevenLabs detail message and status; bad voice, format, key', async () => {
    const voice = await rejection(adapter.speech(req('speech', 'hi', { voice: 'nobody' }, 'eleven_multilingual_v2'), call()));
    assert.equal(voice.status, 404);
    assert.match(voice.message, /voice_id nobody was not found/);
    assert.equal(voice.upstreamCode, 'voice_not_found');
    const fmt = await rejection(adapter.speech(req('speech', 'hi', { voice: 'alloy', response_format: 'flac' }, 'm'), call()));
    assert.equal(fmt.status, 400);
    assert.equal(mock.requests.length, 1);
    const key = await rejection(adapter.speech(req('speech', 'hi', { voice: 'alloy' }, 'm'), call('wrong')));
    assert.equal(key.status, 401);
    assert.match(key.message, /Invalid API key/);
    const chatErr = await rejection(adapter.send(chatReq([{ role: 'user', content: 'x' }])));
    assert.equal(chatErr.status, 400);
  });
});
