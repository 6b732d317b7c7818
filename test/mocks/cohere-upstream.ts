/**
 * A mock Cohere API v2 on 127.0.0.1 (random port) speaking the real wire format. Use `mock.url`
 * as `network_config.base_url`.
 *
 *   POST /v2/chat     {model, messages, tools, tool_choice, max_tokens, p, k, stop_sequences, stream...}
 *                     → {id, finish_reason, message:{role, content:[{type:"text",text}], tool_plan, tool_calls}, usage}
 *                     With `stream: true`: SSE events message-start, content-start, content-delta,
 *                     content-end, tool-plan-delta, tool-call-start/-delta/-end, message-end (the end marker).
 *   POST /v2/embed    {model, texts, input_type, embedding_types} → {id, embeddings:{float:[[...]]}, texts, meta}
 *   POST /v2/rerank   {model, query, documents, top_n} → {id, results:[{index, relevance_score}], meta}
 * Unknown body fields (OpenAI's `top_p`, `stop`, `input`...) are refused with 400, as Cohere does.
 * Keys: `Authorization: Bearer`; with `keys` set, others get 401 {"message":"invalid api token"}.
 * Errors are `{"id","message"}`. Faults, recording, sockets: see mock-server.ts.
 */
import { sse, startMockServer, type Dialect, type MockOptions, type MockUpstream, type RecordedRequest, type Reply } from './mock-server.js';
import { limitWords, mockId, pickTool, pieces, vector, words } from './echo.js';

export type { Fault, MockUpstream, RecordedRequest } from './mock-server.js';

function fail(status: number, message: string): Reply {
  return { kind: 'json', status, body: { id: mockId('err-'), message } };
}

const CHAT_FIELDS = new Set(['model', 'messages', 'tools', 'tool_choice', 'documents', 'citation_options', 'response_format', 'safety_mode', 'max_tokens',
  'stop_sequences', 'temperature', 'seed', 'frequency_penalty', 'presence_penalty', 'k', 'p', 'logprobs', 'stream', 'strict_tools', 'thinking']);

export async function startCohereUpstream(opts: MockOptions = {}): Promise<MockUpstream> {
  const dialect: Dialect = {
    keyOf: (req) => /^Bearer (.+)$/.exec(String(req.headers.authorization ?? ''))?.[1],
    authError: () => fail(401, 'invalid api token'),
    errorBody: (status, message) => ({ id: mockId('err-'), message: message ?? (status === 429 ? 'You are using a Trial key, which is limited to 10 API calls / minute.' : `mock error ${status}`) }),
    errorEvent: (message) => sse({ type: 'message-end', delta: { finish_reason: 'ERROR', error: message ?? 'internal server error' } }, 'message-end'),
    route(rec) {
      if (rec.method !== 'POST') return fail(404, `no route for ${rec.method} ${rec.path}`);
      if (rec.body === undefined) return fail(400, 'invalid request: body must be valid JSON');
      switch (rec.path) {
        case '/v2/chat': return chat(rec);
        case '/v2/embed': return embed(rec);
        case '/v2/rerank': return rerank(rec);
        default: return fail(404, `no route for ${rec.method} ${rec.path}`);
      }
    },
  };
  return startMockServer(dialect, opts);
}

type Msg = { role?: string; content?: unknown; tool_calls?: Array<Record<string, any>>; tool_call_id?: string; tool_plan?: string };

function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  return Array.isArray(content) ? content.filter((c) => c?.type === 'text').map((c) => String(c.text)).join(' ') : '';
}

function chat(rec: RecordedRequest): Reply {
  const b = rec.body as Record<string, any>;
  for (const k of Object.keys(b)) if (!CHAT_FIELDS.has(k)) return fail(400, `invalid request: unknown field: parameter ${k} is not a valid field`);
  if (typeof b.model !== 'string') return fail(400, 'invalid request: model must be a string');
  const msgs = b.messages as Msg[] | undefined;
  if (!Array.isArray(msgs) || msgs.length === 0) return fail(400, 'invalid request: messages cannot be empty');
  const callIds = new Set<string>();
  for (const [i, m] of msgs.entries()) {
    if (!['system', 'user', 'assistant', 'tool'].includes(String(m.role))) return fail(400, `invalid request: messages[${i}].role must be one of system, user, assistant, tool`);
    if (m.role === 'assistant') for (const c of m.tool_calls ?? []) callIds.add(String(c.id));
    if (m.role === 'tool' && !callIds.has(String(m.tool_call_id))) return fail(400, `invalid request: messages[${i}].tool_call_id does not match a tool call`);
    if (m.role === 'user' && typeof m.content !== 'string' && !Array.isArray(m.content)) return fail(400, `invalid request: messages[${i}].content is required`);
  }
  if (b.tool_choice !== undefined && !['REQUIRED', 'NONE'].includes(b.tool_choice)) return fail(400, 'invalid request: tool_choice must be REQUIRED or NONE');
  const last = msgs[msgs.length - 1] as Msg;
  let firstResult = msgs.length;
  while (firstResult > 0 && msgs[firstResult - 1]?.role === 'tool') firstResult--;
  const results = msgs.slice(firstResult);
  const prompt = textOf(last.content);
  const images = Array.isArray(last.content) ? last.content.filter((c: any) => c?.type === 'image_url').length : 0;
  const names: string[] = (b.tools ?? []).map((t: any) => String(t?.function?.name));
  const tool = results.length || b.tool_choice === 'NONE' ? undefined : pickTool(names, prompt, undefined, b.tool_choice === 'REQUIRED');
  const answer = results.length ? `Tool result: ${results.map((r) => textOf(r.content)).join(' ')}` : `Echo: ${prompt}${images ? ` [${images} image(s)]` : ''}`;
  const limited = limitWords(answer, b.max_tokens);
  const finish = tool ? 'TOOL_CALL' : limited.cut ? 'MAX_TOKENS' : 'COMPLETE';
  const input = msgs.reduce((n, m) => n + words(textOf(m.content)), 0);
  const usage = { billed_units: { input_tokens: input, output_tokens: words(limited.text) }, tokens: { input_tokens: input + 5, output_tokens: words(limited.text) } };
  const id = mockId('chat-');
  const call = tool ? { id: mockId(`${tool}_`), type: 'function', function: { name: tool, arguments: JSON.stringify({ input: prompt }) } } : undefined;
  const plan = tool ? `I will call ${tool}.` : undefined;
  if (b.stream !== true) {
    const message: Record<string, unknown> = { role: 'assistant' };
    if (call) { message.tool_plan = plan; message.tool_calls = [call]; } else message.content = [{ type: 'text', text: limited.text }];
    return { kind: 'json', body: { id, finish_reason: finish, message, usage } };
  }
  const events = [sse({ type: 'message-start', id, delta: { message: { role: 'assistant', content: [], tool_plan: '', tool_calls: [], citations: [] } } }, 'message-start')];
  if (call) {
    for (const piece of pieces(plan as string)) events.push(sse({ type: 'tool-plan-delta', delta: { message: { tool_plan: piece } } }, 'tool-plan-delta'));
    const args = call.function.arguments;
    events.push(sse({ type: 'tool-call-start', index: 0, delta: { message: { tool_calls: { id: call.id, type: 'function', function: { name: tool, arguments: '' } } } } }, 'tool-call-start'));
    for (const part of [args.slice(0, 6), args.slice(6)]) events.push(sse({ type: 'tool-call-delta', index: 0, delta: { message: { tool_calls: { function: { arguments: part } } } } }, 'tool-call-delta'));
    events.push(sse({ type: 'tool-call-end', index: 0 }, 'tool-call-end'));
  } else {
    events.push(sse({ type: 'content-start', index: 0, delta: { message: { content: { type: 'text', text: '' } } } }, 'content-start'));
    for (const piece of pieces(limited.text)) events.push(sse({ type: 'content-delta', index: 0, delta: { message: { content: { text: piece } } } }, 'content-delta'));
    events.push(sse({ type: 'content-end', index: 0 }, 'content-end'));
  }
  events.push(sse({ type: 'message-end', delta: { finish_reason: finish, usage } }, 'message-end'));
  return { kind: 'sse', events, endMarkers: 1 };
}

function embed(rec: RecordedRequest): Reply {
  const b = rec.body as Record<string, any>;
  for (const k of Object.keys(b)) if (!['model', 'texts', 'images', 'inputs', 'input_type', 'embedding_types', 'output_dimension', 'max_tokens', 'truncate'].includes(k)) return fail(400, `invalid request: unknown field: parameter ${k} is not a valid field`);
  if (!Array.isArray(b.texts) || b.texts.length === 0) return fail(400, 'invalid request: texts must be a non-empty list');
  if (typeof b.input_type !== 'string') return fail(400, 'invalid request: input_type is required for embed models v3 and higher.');
  const dims = typeof b.output_dimension === 'number' ? Math.min(b.output_dimension, 8) : 8;
  const texts = b.texts as string[];
  return {
    kind: 'json',
    body: { id: mockId('emb-'), embeddings: { float: texts.map((t) => vector(t, dims)) }, texts, meta: { api_version: { version: '2' }, billed_units: { input_tokens: texts.reduce((n, t) => n + words(t), 0) } }, response_type: 'embeddings_by_type' },
  };
}

/** Relevance = how many query words the document shares, so tests can predict the order. */
function rerank(rec: RecordedRequest): Reply {
  const b = rec.body as Record<string, any>;
  for (const k of Object.keys(b)) if (!['model', 'query', 'documents', 'top_n', 'max_tokens_per_doc', 'rank_fields', 'return_documents'].includes(k)) return fail(400, `invalid request: unknown field: parameter ${k} is not a valid field`);
  if (typeof b.query !== 'string' || !b.query) return fail(400, 'invalid request: query cannot be empty');
  if (!Array.isArray(b.documents) || b.documents.length === 0 || !b.documents.every((d: unknown) => typeof d === 'string')) return fail(400, 'invalid request: documents must be a non-empty list of strings');
  const q = new Set(String(b.query).toLowerCase().split(/\W+/).filter(Boolean));
  const scored = (b.documents as string[]).map((d, index) => {
    const w = d.toLowerCase().split(/\W+/).filter(Boolean);
    return { index, relevance_score: w.length ? w.filter((x) => q.has(x)).length / w.length : 0 };
  }).sort((x, y) => y.relevance_score - x.relevance_score || x.index - y.index);
  const results = typeof b.top_n === 'number' ? scored.slice(0, b.top_n) : scored;
  return { kind: 'json', body: { id: mockId('rr-'), results, meta: { api_version: { version: '2' }, billed_units: { search_units: 1 } } } };
}
