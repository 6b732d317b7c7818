/**
 * A mock Gemini API (generativelanguage, v1beta) on 127.0.0.1 (random port) speaking the real
 * wire format. Use `mock.url` as `network_config.base_url`.
 *
 *   POST /v1beta/models/{model}:generateContent
 *   POST /v1beta/models/{model}:streamGenerateContent?alt=sse   one GenerateContentResponse per event; the
 *        last one carries finishReason and usageMetadata (no other end marker; `truncateStream` drops it).
 *        Without alt=sse the answer is a JSON array of responses, as Google sends it.
 *   POST /v1beta/models/{model}:embedContent         {embedding:{values}}
 *   POST /v1beta/models/{model}:batchEmbedContents   {embeddings:[{values}]} (each request's model must be models/{model})
 *   GET  /v1beta/models
 * Requests are checked as strictly as Google's proto parsing does: unknown top-level or
 * generationConfig fields (e.g. `max_tokens`, `messages`) → 400 INVALID_ARGUMENT "Unknown name";
 * roles other than user/model, empty parts, or a functionResponse without a name → 400.
 * Answers: `Echo: <last user text>` (`[N image(s)]` appended for inlineData/fileData parts),
 * `Tool result: <response JSON>` after a functionResponse, a functionCall `{"input": <prompt>}` when the
 * prompt names a declared function or toolConfig mode is ANY, `{"echo": <prompt>}` when
 * responseMimeType is application/json, finishReason MAX_TOKENS when maxOutputTokens is below the word count.
 * Keys: `x-goog-api-key` header (or `?key=`); with `keys` set, a wrong key gets 400 API_KEY_INVALID and a
 * missing one 403 PERMISSION_DENIED (Google's real answers).
 * Faults (status N answers `{"error":{"code","message","status"}}`), recording, sockets: see mock-server.ts.
 */
import { sse, startMockServer, type Dialect, type MockOptions, type MockUpstream, type RecordedRequest, type Reply } from './mock-server.js';
import { limitWords, mockId, pickTool, pieces, vector, words } from './echo.js';

export type { Fault, MockUpstream, RecordedRequest } from './mock-server.js';

const STATUS: Record<number, string> = {
  400: 'INVALID_ARGUMENT', 401: 'UNAUTHENTICATED', 403: 'PERMISSION_DENIED', 404: 'NOT_FOUND', 429: 'RESOURCE_EXHAUSTED',
  500: 'INTERNAL', 503: 'UNAVAILABLE', 504: 'DEADLINE_EXCEEDED',
};

function errorBody(code: number, message?: string, status?: string): unknown {
  return { error: { code, message: message ?? `mock error ${code}`, status: status ?? STATUS[code] ?? (code >= 500 ? 'INTERNAL' : 'INVALID_ARGUMENT') } };
}

function fail(code: number, message: string, status?: string): Reply {
  return { kind: 'json', status: code, body: errorBody(code, message, status) };
}

const TOP_LEVEL = new Set(['contents', 'systemInstruction', 'system_instruction', 'generationConfig', 'tools', 'toolConfig', 'safetySettings', 'cachedContent']);
const CONFIG = new Set(['temperature', 'topP', 'topK', 'maxOutputTokens', 'stopSequences', 'candidateCount', 'presencePenalty',
  'frequencyPenalty', 'seed', 'responseMimeType', 'responseSchema', 'responseLogprobs', 'logprobs', 'thinkingConfig']);
const PART_KINDS = ['text', 'inlineData', 'fileData', 'functionCall', 'functionResponse'];

export async function startGeminiUpstream(opts: MockOptions = {}): Promise<MockUpstream> {
  const dialect: Dialect = {
    keyOf: (req, query) => (typeof req.headers['x-goog-api-key'] === 'string' ? req.headers['x-goog-api-key'] : query.key),
    authError: (key) => key
      ? fail(400, 'API key not valid. Please pass a valid API key.', 'INVALID_ARGUMENT')
      : fail(403, 'Method doesn\'t allow unregistered callers. Please use API Key or other form of API consumer identity to call this API.'),
    errorBody: (status, message, type) => errorBody(status, message, type),
    errorEvent: (message, type) => sse({ error: { code: 500, message: message ?? 'An internal error has occurred.', status: type ?? 'INTERNAL' } }),
    route(rec) {
      if (rec.method === 'GET' && rec.path === '/v1beta/models') {
        return { kind: 'json', body: { models: ['gemini-2.0-flash', 'text-embedding-004'].map((m) => ({ name: `models/${m}` })) } };
      }
      const m = /^\/v1beta\/models\/([^/:]+):(\w+)$/.exec(rec.path);
      if (rec.method !== 'POST' || !m) return fail(404, `Not found: ${rec.method} ${rec.path}`, 'NOT_FOUND');
      if (rec.body === undefined) return fail(400, 'Invalid JSON payload received.');
      const model = decodeURIComponent(m[1] as string);
      switch (m[2]) {
        case 'generateContent': return generate(rec, model, 'json');
        case 'streamGenerateContent': return generate(rec, model, rec.query.alt === 'sse' ? 'sse' : 'array');
        case 'embedContent': return embed(rec, model, false);
        case 'batchEmbedContents': return embed(rec, model, true);
        default: return fail(404, `Method not found: ${m[2]}`, 'NOT_FOUND');
      }
    },
  };
  return startMockServer(dialect, opts);
}

type Part = Record<string, any>;
type Content = { role?: string; parts?: Part[] };

function validate(b: Record<string, any>): string | undefined {
  for (const k of Object.keys(b)) if (!TOP_LEVEL.has(k)) return `Invalid JSON payload received. Unknown name "${k}": Cannot find field.`;
  for (const k of Object.keys(b.generationConfig ?? {})) {
    if (!CONFIG.has(k)) return `Invalid JSON payload received. Unknown name "${k}" at 'generation_config': Cannot find field.`;
  }
  if (!Array.isArray(b.contents) || b.contents.length === 0) return '* GenerateContentRequest.contents: contents is not specified';
  for (const [i, c] of (b.contents as Content[]).entries()) {
    if (c.role !== undefined && c.role !== 'user' && c.role !== 'model') return `Please use a valid role: user, model. (contents[${i}])`;
    if (!Array.isArray(c.parts) || c.parts.length === 0) return `* GenerateContentRequest.contents[${i}].parts: contents.parts must not be empty.`;
    for (const p of c.parts) {
      if (!PART_KINDS.some((k) => k in p)) return `* GenerateContentRequest.contents[${i}].parts: unknown part ${JSON.stringify(p).slice(0, 80)}`;
      if (p.functionResponse && !p.functionResponse.name) return `* GenerateContentRequest.contents[${i}].parts.function_response.name: Name cannot be empty.`;
      if (p.functionCall && (typeof p.functionCall.args !== 'object' || Array.isArray(p.functionCall.args))) return `contents[${i}]: functionCall.args must be an object`;
    }
  }
  return undefined;
}

export function generate(rec: RecordedRequest, model: string, mode: 'json' | 'sse' | 'array'): Reply {
  const b = rec.body as Record<string, any>;
  const invalid = validate(b);
  if (invalid) return fail(400, invalid);
  const contents = b.contents as Content[];
  const last = contents[contents.length - 1] as Content;
  const parts = last.parts as Part[];
  const fnResponse = parts.find((p) => p.functionResponse)?.functionResponse;
  const prompt = parts.filter((p) => typeof p.text === 'string').map((p) => p.text).join(' ');
  const images = parts.filter((p) => p.inlineData || p.fileData).length;
  const decls: Part[] = (b.tools ?? []).flatMap((t: Part) => t.functionDeclarations ?? []);
  const fcc = b.toolConfig?.functionCallingConfig ?? {};
  const forced = fcc.mode === 'ANY' && Array.isArray(fcc.allowedFunctionNames) ? fcc.allowedFunctionNames[0] : undefined;
  const tool = fnResponse || fcc.mode === 'NONE' ? undefined : pickTool(decls.map((d) => String(d.name)), prompt, forced, fcc.mode === 'ANY');
  let answer = fnResponse ? `Tool result: ${JSON.stringify(fnResponse.response)}` : `Echo: ${prompt}${images ? ` [${images} image(s)]` : ''}`;
  if (b.generationConfig?.responseMimeType === 'application/json') answer = JSON.stringify({ echo: prompt });
  const limited = limitWords(answer, b.generationConfig?.maxOutputTokens);
  const finishReason = limited.cut ? 'MAX_TOKENS' : 'STOP';
  const system = (b.systemInstruction ?? b.system_instruction)?.parts ?? [];
  const textWords = (ps: Part[]): number => words(ps.map((p) => p.text ?? '').join(' '));
  const promptTokens = contents.reduce((n, c) => n + textWords(c.parts ?? []), textWords(system));
  const outParts: Part[] = tool ? [{ functionCall: { name: tool, args: { input: prompt } } }] : [{ text: limited.text }];
  const usageMetadata = { promptTokenCount: promptTokens, candidatesTokenCount: words(limited.text), totalTokenCount: promptTokens + words(limited.text) };
  const base = { modelVersion: model, responseId: mockId('resp-') };

  if (mode === 'json') {
    return { kind: 'json', body: { candidates: [{ content: { role: 'model', parts: outParts }, finishReason, index: 0 }], usageMetadata, ...base } };
  }
  const pieceParts: Part[][] = tool ? [outParts] : pieces(limited.text).map((t) => [{ text: t }]);
  const responses: unknown[] = pieceParts.map((p) => ({ candidates: [{ content: { role: 'model', parts: p }, index: 0 }], ...base }));
  responses.push({ candidates: [{ content: { role: 'model', parts: [{ text: '' }] }, finishReason, index: 0 }], usageMetadata, ...base });
  if (mode === 'array') return { kind: 'json', body: responses };
  return { kind: 'sse', events: responses.map((r) => sse(r)), endMarkers: 1 };
}

function embed(rec: RecordedRequest, model: string, batch: boolean): Reply {
  const b = rec.body as Record<string, any>;
  const one = (r: Part, where: string): number[] | string => {
    const text = (r?.content?.parts ?? []).map((p: Part) => p.text ?? '').join(' ');
    if (!r?.content?.parts?.length) return `${where}content: must contain parts`;
    return vector(text, typeof r.outputDimensionality === 'number' ? r.outputDimensionality : 8);
  };
  if (!batch) {
    const v = one(b, '');
    return typeof v === 'string' ? fail(400, v) : { kind: 'json', body: { embedding: { values: v } } };
  }
  if (!Array.isArray(b.requests) || b.requests.length === 0) return fail(400, '* BatchEmbedContentsRequest.requests: requests is not specified');
  const embeddings: Array<{ values: number[] }> = [];
  for (const [i, r] of (b.requests as Part[]).entries()) {
    if (r.model !== `models/${model}`) return fail(400, `* BatchEmbedContentsRequest.requests[${i}].model: model must be models/${model}`);
    const v = one(r, `requests[${i}].`);
    if (typeof v === 'string') return fail(400, v);
    embeddings.push({ values: v });
  }
  return { kind: 'json', body: { embeddings } };
}
