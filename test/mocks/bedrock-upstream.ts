/**
 * A mock AWS Bedrock runtime on 127.0.0.1 (random port) speaking the real wire format. Use
 * `mock.url` as `network_config.base_url`.
 *
 *   POST /model/{modelId}/converse          Converse: {messages, system, inferenceConfig, toolConfig} →
 *                                           {output:{message}, stopReason, usage, metrics}
 *   POST /model/{modelId}/converse-stream   the same as application/vnd.amazon.eventstream frames (prelude
 *                                           and message CRCs, `:event-type` / `:message-type` headers):
 *                                           messageStart, contentBlockStart (toolUse), contentBlockDelta,
 *                                           contentBlockStop, messageStop, metadata (the end marker).
 *   POST /model/{modelId}/invoke            Titan embeddings ({inputText} → {embedding, inputTextTokenCount})
 *                                           and Cohere embeddings ({texts, input_type} → {embeddings}).
 * Every request's SigV4 signature is recomputed with @smithy/signature-v4 from the secret of the
 * access key it names (`credentials`) and compared: an unknown key gets 403
 * UnrecognizedClientException, a wrong signature 403 InvalidSignatureException, as AWS answers.
 * Converse bodies are validated (roles alternate starting with user, known block kinds, no OpenAI
 * fields): 400 ValidationException. Answers follow echo.ts. Errors are `{"message"}` with the
 * exception named in `x-amzn-errortype`; a stream error is an `exception` frame.
 * Faults, recording, sockets: see mock-server.ts.
 */
import { Sha256 } from '@aws-crypto/sha256-js';
import { EventStreamCodec } from '@smithy/eventstream-codec';
import { SignatureV4 } from '@smithy/signature-v4';
import { fromUtf8, toUtf8 } from '@smithy/util-utf8';
import { startMockServer, type Dialect, type MockOptions, type MockUpstream, type RecordedRequest, type Reply } from './mock-server.js';
import { limitWords, mockId, pickTool, pieces, vector, words } from './echo.js';

export type { Fault, MockUpstream, RecordedRequest } from './mock-server.js';

const EXCEPTION: Record<number, string> = {
  400: 'ValidationException', 403: 'AccessDeniedException', 404: 'ResourceNotFoundException', 408: 'ModelTimeoutException',
  424: 'ModelErrorException', 429: 'ThrottlingException', 500: 'InternalServerException', 503: 'ServiceUnavailableException',
};

const codec = new EventStreamCodec(toUtf8, fromUtf8);

function exceptionOf(status: number, type?: string): string {
  return type ?? EXCEPTION[status] ?? (status >= 500 ? 'InternalServerException' : 'ValidationException');
}

function fail(status: number, message: string, type?: string): Reply {
  return { kind: 'json', status, body: { message }, headers: { 'x-amzn-errortype': `${exceptionOf(status, type)}:http://internal.amazon.com/coral/com.amazon.bedrock/` } };
}

/** One event-stream frame, as Bedrock encodes it (payloads carry a `p` padding field). */
export function frame(kind: 'event' | 'exception', name: string, payload: unknown): Uint8Array {
  const typeHeader = kind === 'event' ? ':event-type' : ':exception-type';
  return codec.encode({
    headers: {
      [typeHeader]: { type: 'string', value: name },
      ':content-type': { type: 'string', value: 'application/json' },
      ':message-type': { type: 'string', value: kind },
    },
    body: fromUtf8(JSON.stringify(kind === 'event' ? { ...(payload as object), p: 'abcdefghijkl'.slice(0, 1 + (name.length % 12)) } : payload)),
  });
}

export interface BedrockMockOptions extends MockOptions {
  /** access key id → secret key; requests signed with anything else are refused. */
  credentials: Record<string, string>;
  region?: string;
}

const AUTH = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$/;

export async function startBedrockUpstream(opts: BedrockMockOptions): Promise<MockUpstream> {
  const dialect: Dialect = {
    keyOf: (req) => AUTH.exec(String(req.headers.authorization ?? ''))?.[1],
    authError: () => fail(403, 'The security token included in the request is invalid.', 'UnrecognizedClientException'),
    errorBody: (status, message, type) => ({ message: message ?? (status === 429 ? 'Too many requests, please wait before trying again.' : `mock error ${status} (${exceptionOf(status, type)})`) }),
    errorHeaders: (status, type) => ({ 'x-amzn-errortype': `${exceptionOf(status, type)}:http://internal.amazon.com/coral/com.amazon.bedrock/` }),
    errorEvent: (message, type) => frame('exception', type ?? 'throttlingException', { message: message ?? 'Too many requests, please wait before trying again.' }),
    streamContentType: 'application/vnd.amazon.eventstream',
    async route(rec) {
      const denied = await verifySignature(rec, opts.credentials, opts.region ?? 'us-east-1');
      if (denied) return denied;
      const m = /^\/model\/([^/]+)\/(converse|converse-stream|invoke)$/.exec(rec.path);
      if (rec.method !== 'POST' || !m) return fail(404, `Unable to determine service/operation name to be authorized`, 'UnknownOperationException');
      if (rec.body === undefined) return fail(400, 'Malformed input request, please reformat your input and try again.');
      const model = decodeURIComponent(m[1] as string);
      if (m[2] === 'invoke') return invoke(rec, model);
      return converse(rec, model, m[2] === 'converse-stream');
    },
  };
  return startMockServer(dialect, opts);
}

/** Recomputes the signature the way AWS does: same canonical request, same library, same secret. */
async function verifySignature(rec: RecordedRequest, credentials: Record<string, string>, region: string): Promise<Reply | undefined> {
  const auth = AUTH.exec(String(rec.headers.authorization ?? ''));
  if (!auth) return fail(403, 'Missing Authentication Token', 'MissingAuthenticationTokenException');
  const [, accessKeyId, , credRegion, service, signedList] = auth as unknown as string[];
  const secret = credentials[accessKeyId as string];
  if (!secret) return fail(403, 'The security token included in the request is invalid.', 'UnrecognizedClientException');
  if (credRegion !== region || service !== 'bedrock') return fail(403, `Credential should be scoped to a valid region and service 'bedrock'.`, 'InvalidSignatureException');
  const amzDate = String(rec.headers['x-amz-date'] ?? '');
  const d = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(amzDate);
  if (!d) return fail(400, 'Missing or invalid X-Amz-Date header', 'IncompleteSignatureException');
  const signingDate = new Date(Date.UTC(+d[1]!, +d[2]! - 1, +d[3]!, +d[4]!, +d[5]!, +d[6]!));
  if (Math.abs(Date.now() - signingDate.getTime()) > 5 * 60_000) return fail(403, 'Signature expired', 'InvalidSignatureException');
  const headers: Record<string, string> = {};
  for (const name of (signedList as string).split(';')) {
    const v = rec.headers[name];
    if (v === undefined) return fail(403, `Signed header ${name} is missing`, 'InvalidSignatureException');
    headers[name] = Array.isArray(v) ? v.join(',') : String(v);
  }
  const host = headers.host ?? '';
  const signer = new SignatureV4({
    credentials: { accessKeyId: accessKeyId as string, secretAccessKey: secret, ...(headers['x-amz-security-token'] ? { sessionToken: headers['x-amz-security-token'] } : {}) },
    region, service: 'bedrock', sha256: Sha256,
  });
  const expected = await signer.sign({
    method: rec.method, protocol: 'http:', hostname: host.replace(/:\d+$/, ''), path: rec.rawPath, query: {}, headers, body: rec.rawBody,
  }, { signingDate });
  if (expected.headers.authorization !== rec.headers.authorization) {
    return fail(403, 'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.', 'InvalidSignatureException');
  }
  return undefined;
}

type Block = Record<string, any>;
type Msg = { role?: string; content?: Block[] };
const TOP_LEVEL = new Set(['messages', 'system', 'inferenceConfig', 'toolConfig', 'additionalModelRequestFields', 'additionalModelResponseFieldPaths', 'guardrailConfig', 'promptVariables', 'requestMetadata', 'performanceConfig']);
const INFERENCE = new Set(['maxTokens', 'temperature', 'topP', 'stopSequences']);
const BLOCK_KINDS = ['text', 'image', 'document', 'toolUse', 'toolResult', 'guardContent', 'reasoningContent', 'video', 'cachePoint'];

function validate(b: Record<string, any>): string | undefined {
  for (const k of Object.keys(b)) if (!TOP_LEVEL.has(k)) return `Malformed input request: extraneous key [${k}] is not permitted, please reformat your input and try again.`;
  for (const k of Object.keys(b.inferenceConfig ?? {})) if (!INFERENCE.has(k)) return `Malformed input request: extraneous key [${k}] is not permitted, please reformat your input and try again.`;
  const msgs = b.messages as Msg[] | undefined;
  if (!Array.isArray(msgs) || msgs.length === 0) return 'The model returned the following errors: messages: at least one message is required';
  let expect = 'user';
  for (const [i, m] of msgs.entries()) {
    if (m.role !== 'user' && m.role !== 'assistant') return `1 validation error detected: Value '${m.role}' at 'messages.${i + 1}.member.role' failed to satisfy constraint: Member must satisfy enum value set: [user, assistant]`;
    if (m.role !== expect) return 'A conversation must alternate between user and assistant roles. Make sure the conversation alternates between user and assistant roles and try again.';
    expect = m.role === 'user' ? 'assistant' : 'user';
    if (!Array.isArray(m.content) || m.content.length === 0) return `The content field in the Message object at messages.${i}.content is empty. Add a ContentBlock object to the content field and try again.`;
    for (const block of m.content) {
      const kinds = Object.keys(block).filter((k) => BLOCK_KINDS.includes(k));
      if (kinds.length !== 1 || Object.keys(block).length !== 1) return `Malformed content block at messages.${i}: ${JSON.stringify(block).slice(0, 80)}`;
      if (block.image && (!block.image.format || typeof block.image.source?.bytes !== 'string')) return `messages.${i}: image blocks need format and source.bytes`;
      if (block.toolUse && (typeof block.toolUse.input !== 'object' || Array.isArray(block.toolUse.input))) return `messages.${i}: toolUse.input must be an object`;
    }
  }
  for (const s of b.system ?? []) if (typeof s?.text !== 'string') return 'system: each block needs text';
  for (const t of b.toolConfig?.tools ?? []) if (!t?.toolSpec?.name || typeof t.toolSpec.inputSchema?.json !== 'object') return 'toolConfig.tools: each tool needs toolSpec.name and toolSpec.inputSchema.json';
  return undefined;
}

function converse(rec: RecordedRequest, model: string, stream: boolean): Reply {
  const b = rec.body as Record<string, any>;
  const invalid = validate(b);
  if (invalid) return fail(400, invalid);
  const msgs = b.messages as Msg[];
  const last = msgs[msgs.length - 1] as Msg;
  if (last.role !== 'user') return fail(400, 'The last message must be from the user.');
  const blocks = last.content as Block[];
  const results = blocks.filter((x) => x.toolResult).map((x) => x.toolResult);
  const prompt = blocks.filter((x) => typeof x.text === 'string').map((x) => x.text).join(' ');
  const images = blocks.filter((x) => x.image).length;
  const names: string[] = (b.toolConfig?.tools ?? []).map((t: Block) => String(t.toolSpec.name));
  const tc = b.toolConfig?.toolChoice ?? {};
  const tool = results.length ? undefined : pickTool(names, prompt, tc.tool?.name, tc.any !== undefined);
  const answer = results.length
    ? `Tool result: ${results.map((r: Block) => JSON.stringify((r.content ?? []).map((c: Block) => c.json ?? c.text))).join(' ')}`
    : `Echo: ${prompt}${images ? ` [${images} image(s)]` : ''}`;
  const limited = limitWords(answer, b.inferenceConfig?.maxTokens);
  const stopReason = tool ? 'tool_use' : limited.cut ? 'max_tokens' : 'end_turn';
  const countText = (bs: Block[] = []): number => words(bs.map((x) => x.text ?? '').join(' '));
  const inputTokens = msgs.reduce((n, m) => n + countText(m.content), countText(b.system));
  const toolUseId = mockId('tooluse_');
  const outText = tool ? `Calling ${tool}.` : limited.text;
  const usage = { inputTokens, outputTokens: words(outText), totalTokens: inputTokens + words(outText) };
  if (!stream) {
    const content: Block[] = [{ text: outText }];
    if (tool) content.push({ toolUse: { toolUseId, name: tool, input: { input: prompt } } });
    return { kind: 'json', body: { output: { message: { role: 'assistant', content } }, stopReason, usage, metrics: { latencyMs: 12 } } };
  }
  const frames: Uint8Array[] = [frame('event', 'messageStart', { role: 'assistant' })];
  for (const piece of pieces(outText)) frames.push(frame('event', 'contentBlockDelta', { contentBlockIndex: 0, delta: { text: piece } }));
  frames.push(frame('event', 'contentBlockStop', { contentBlockIndex: 0 }));
  if (tool) {
    const args = JSON.stringify({ input: prompt });
    const cut = Math.max(1, args.length >> 1);
    frames.push(frame('event', 'contentBlockStart', { contentBlockIndex: 1, start: { toolUse: { toolUseId, name: tool } } }));
    frames.push(frame('event', 'contentBlockDelta', { contentBlockIndex: 1, delta: { toolUse: { input: args.slice(0, cut) } } }));
    frames.push(frame('event', 'contentBlockDelta', { contentBlockIndex: 1, delta: { toolUse: { input: args.slice(cut) } } }));
    frames.push(frame('event', 'contentBlockStop', { contentBlockIndex: 1 }));
  }
  frames.push(frame('event', 'messageStop', { stopReason }));
  frames.push(frame('event', 'metadata', { usage, metrics: { latencyMs: 12 } }));
  return { kind: 'sse', events: frames, endMarkers: 2, contentType: 'application/vnd.amazon.eventstream' };
}

function invoke(rec: RecordedRequest, model: string): Reply {
  const b = rec.body as Record<string, any>;
  if (model.includes('amazon.titan-embed')) {
    for (const k of Object.keys(b)) if (!['inputText', 'dimensions', 'normalize', 'embeddingTypes'].includes(k)) return fail(400, `Malformed input request: extraneous key [${k}] is not permitted, please reformat your input and try again.`);
    if (typeof b.inputText !== 'string' || !b.inputText) return fail(400, 'Malformed input request: #: required key [inputText] not found, please reformat your input and try again.');
    const dims = b.dimensions ?? 1024;
    if (![256, 512, 1024].includes(dims)) return fail(400, 'Malformed input request: #/dimensions: ' + dims + ' is not a valid enum value, please reformat your input and try again.');
    const embedding = vector(b.inputText, Math.min(dims, 8));
    return { kind: 'json', body: { embedding, inputTextTokenCount: words(b.inputText), embeddingsByType: { float: embedding } } };
  }
  if (model.includes('cohere.embed')) {
    if (!Array.isArray(b.texts) || b.texts.length === 0) return fail(400, 'Malformed input request: #: required key [texts] not found, please reformat your input and try again.');
    if (typeof b.input_type !== 'string') return fail(400, 'Malformed input request: #: required key [input_type] not found, please reformat your input and try again.');
    const texts = b.texts as string[];
    return {
      kind: 'json',
      body: { embeddings: texts.map((t) => vector(t)), id: mockId('emb-'), response_type: 'embeddings_floats', texts },
      headers: { 'x-amzn-bedrock-input-token-count': String(texts.reduce((n, t) => n + words(t), 0)) },
    };
  }
  return fail(400, `The provided model identifier is invalid.`);
}
