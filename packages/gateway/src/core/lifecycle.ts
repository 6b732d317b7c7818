import { RequestContext } from '../schema/context.js';
import { renderError, streamErrorEvent } from '../schema/front-errors.js';
import { emptyMap, mapOf } from '../schema/maps.js';
import { GatewayError, fromLLMError, isGatewayError, type LLMError } from '../schema/errors.js';
import type { HttpRequestData, HttpResponseData } from '../schema/http.js';
import { dropClientBody, isStreaming, type LLMRequest } from '../schema/request.js';
import { RESPONSE_KEY, chunkEnvelope, rawBodyOf, responseBody, type LLMResponse } from '../schema/response.js';
import { StreamChunk } from '../schema/stream.js';
import { PluginRejection } from '../plugins/plugin.js';
import { adapterOffers } from '../providers/dispatch.js';
import { unsupportedType, type ClassicType } from '../providers/provider.js';
import { describe, type Gateway } from './gateway.js';
import type { SseFrame } from './front.js';
import type { InboundRequest, ResponseSink } from './inbound.js';
import { parseInferenceBody } from './parse-request.js';
import { withoutSecrets } from './redact.js';
import { callWithRetries, type CallOutcome } from './retry.js';
import type { Target } from './route.js';
import { shortCircuitChunks } from './stream-convert.js';
import { hookTraces, type RequestSummary } from './observer.js';


/** Per-request state threaded through the steps below. */
interface Exchange {
  gw: Gateway;
  ctx: RequestContext;
  inbound: InboundRequest;
  sink: ResponseSink;
  /** The HTTP view for transport hooks; built only when some plugin has one. */
  http: HttpRequestData | undefined;
  /** When the request reached the core (performance.now()). */
  startedAt: number;
  /** Time spent waiting on providers, to report the gateway's own overhead. */
  upstreamMs: number;
  /** What observers are told (set only when some observer is registered). */
  obs: ObservedFacts | undefined;
}

interface ObservedFacts {
  provider: string | undefined;
  model: string | undefined;
  status: number;
  stream: boolean;
  ttftMs: number | undefined;
  usage: { prompt_tokens?: number; completion_tokens?: number; input_tokens?: number; output_tokens?: number } | undefined;
  errorCode: string | undefined;
}

/**
 * One inference request, end to end, in the order of the plugin contract: transport pre-hooks,
 * parse, then per target (primary, then fallbacks) LLM pre-hooks, provider call with retries,
 * LLM post-hooks; then transport post-hooks (or, streaming, chunk hooks per event and transport
 * post-hooks after the end). Never throws: every failure becomes a provider-style error answer.
 */
export async function runInference(gw: Gateway, inbound: InboundRequest, sink: ResponseSink): Promise<void> {
  const ctx = new RequestContext(inbound.requestId);
  const ex: Exchange = {
    gw, ctx, inbound, sink,
    http: gw.pipeline.needsHttpView ? toHttpRequest(inbound) : undefined,
    startedAt: inbound.receivedAt,
    upstreamMs: 0,
    obs: undefined,
  };
  const observer = gw.observer;
  if (observer) {
    ex.obs = { provider: undefined, model: undefined, status: 0, stream: false, ttftMs: undefined, usage: undefined, errorCode: undefined };
    observer.requestStarted?.(inbound.path);
    if (observer.wantsTrace) hookTraces.set(ctx, []);
  }
  try {
    let body: Uint8Array | null = inbound.body;
    if (ex.http && gw.pipeline.hasHttpPre) {
      const pre = await gw.pipeline.runHttpPre(ctx, ex.http);
      if (pre.response) return await finish(ex, pre.response, pre.ran);
      if (pre.error) return await finish(ex, errorResponse(ex, toError(pre.error)), pre.ran);
      body = ex.http.body;
    }
    let request: LLMRequest;
    if (inbound.codec) {
      request = inbound.codec.parse(body, gw.config, inbound.query);
      // A hook that could change the request or read the answer's events rules out pass-through.
      if (gw.pipeline.hasPreLLM || gw.pipeline.hasPostLLM || gw.pipeline.hasStreamChunk) dropClientBody(request);
    } else {
      request = parseInferenceBody(inbound.requestType as ClassicType, body, gw.config);
    }
    const targets = [gw.router.resolve(request.model), ...request.fallbacks.map((f) => gw.router.resolve(f, 'fallbacks'))];
    await attemptTargets(ex, request, targets);
  } catch (err) {
    await finish(ex, errorResponse(ex, toError(err))).catch((e2) => {
      gw.log.error({ err: describe(e2) }, 'failed to send error');
      // Last resort, from nothing a plugin touched: the client is never left waiting.
      try {
        const e = new GatewayError('GH_ERR_INTERNAL', 'internal error: the answer could not be sent');
        const r = renderError(inbound.front, e, inbound.requestId);
        sink.send(r.status_code, r.headers, r.body);
      } catch { /* the connection is gone */ }
    });
  }
  if (ex.obs) report(ex, ex.obs);
}

/** Tells the observers how the request went; never throws into the request. */
function report(ex: Exchange, o: ObservedFacts): void {
  const { gw, inbound } = ex;
  const totalMs = performance.now() - ex.startedAt;
  const u = o.usage;
  const inputTokens = u ? u.prompt_tokens ?? u.input_tokens : undefined;
  const outputTokens = u ? u.completion_tokens ?? u.output_tokens : undefined;
  const summary: RequestSummary = {
    requestId: ex.ctx.requestId,
    method: inbound.method,
    route: inbound.path,
    front: inbound.front,
    provider: o.provider,
    model: o.model,
    status: o.status,
    stream: o.stream,
    startedAtMs: Date.now() - totalMs,
    totalMs,
    upstreamMs: ex.upstreamMs,
    overheadMs: Math.max(0, totalMs - ex.upstreamMs),
    ttftMs: o.ttftMs,
    inputTokens,
    outputTokens,
    costUsd: u && o.provider && o.model ? gw.config.pricing.costOf(o.provider, o.model, u) : undefined,
    errorCode: o.errorCode,
    virtualKey: undefined,
    hooks: hookTraces.get(ex.ctx),
  };
  try {
    gw.observer!.requestFinished(summary);
  } catch (err) {
    gw.log.error({ request_id: summary.requestId, err: describe(err) }, 'request observer failed');
  }
}

/** The provider's token counts from an answer (OpenAI's or Anthropic's spelling), if it has them. */
function usageOf(body: unknown): ObservedFacts['usage'] {
  const u = (body as { usage?: unknown } | null)?.usage;
  return u && typeof u === 'object' ? (u as ObservedFacts['usage']) : undefined;
}

async function attemptTargets(ex: Exchange, base: LLMRequest, targets: Target[]): Promise<void> {
  const { gw, ctx, sink } = ex;
  const pipeline = gw.pipeline;
  for (let t = 0; t < targets.length; t++) {
    let target = targets[t] as Target;
    let req: LLMRequest = { ...base, provider: target.provider.name, model: target.model };
    let ran = pipeline.entries.length;
    let resp: LLMResponse | null = null;
    let err: LLMError | null = null;
    let gwErr: GatewayError | undefined;
    let shortCircuited = false;
    if (pipeline.hasPreLLM) {
      const pre = await pipeline.runPreLLM(ctx, req);
      req = pre.request;
      ran = pre.ran;
      if (pre.shortCircuit) {
        shortCircuited = true;
        resp = pre.shortCircuit.response ?? null;
        err = pre.shortCircuit.error ?? null;
      } else if (req.provider !== target.provider.name || req.model !== target.model) {
        // A pre-hook may reroute the request (a routing plugin): resolve its choice.
        target = gw.router.resolve(`${req.provider}/${req.model}`);
      }
    }
    if (ex.obs) { ex.obs.provider = target.provider.name; ex.obs.model = target.model; }
    if (!shortCircuited) {
      if (!adapterOffers(target.provider.adapter, req.request_type)) {
        gwErr = unsupportedType(target.provider.name, req.request_type, ex.inbound.front === 'openai' ? '' : `, so the ${ex.inbound.front} front cannot be translated to it`);
        err = gwErr.toLLMError();
      } else {
        const callStart = performance.now();
        try {
          const outcome = await callWithRetries(target, req, gw.http, sink.signal);
          ex.upstreamMs += performance.now() - callStart;
          if (outcome.kind === 'stream') return await streamOut(ex, target, req, outcome, ran);
          if (outcome.kind === 'passthrough') return await sendPassthrough(ex, target, outcome);
          resp = outcome.response;
        } catch (e) {
          ex.upstreamMs += performance.now() - callStart;
          // The call was cancelled because the client left: say so, not "upstream unreachable".
          gwErr = sink.signal.aborted
            ? new GatewayError('GH_ERR_CLIENT_CLOSED', 'the client closed the connection before the answer was ready', { provider: target.provider.name, allowFallbacks: false })
            : withoutKeys(gw, toError(e));
          err = gwErr.toLLMError();
        }
      }
    }
    if (pipeline.hasPostLLM) {
      const before = err;
      const out = await pipeline.runPostLLM(ctx, resp, err, ran);
      resp = out.response;
      err = out.error;
      if (err !== before) gwErr = undefined;
    }
    if (!err && resp) return await sendLLMResponse(ex, target, req, resp);
    const final = gwErr ?? (err ? fromLLMError(err) : new GatewayError('GH_ERR_INTERNAL', 'no response and no error after plugins'));
    const last = t === targets.length - 1;
    if (last || final.allowFallbacks === false || sink.signal.aborted) return await finish(ex, errorResponse(ex, final, target));
    gw.log.info({ request_id: ctx.requestId, from: `${target.provider.name}/${target.model}`, to: describeTarget(targets[t + 1]), err: final.message }, 'falling back');
  }
}

async function sendLLMResponse(ex: Exchange, target: Target, req: LLMRequest, resp: LLMResponse): Promise<void> {
  const codec = ex.inbound.codec;
  if (isStreaming(req)) {
    // The client asked for a stream, but a plugin answered with a whole response: stream it.
    let chunks: StreamChunk[];
    if (codec) chunks = codec.eventsOf(resp, req);
    else {
      const includeUsage = (req.params.stream_options as { include_usage?: boolean } | undefined)?.include_usage === true;
      chunks = shortCircuitChunks(responseBody(resp), req, ex.ctx.requestId, includeUsage);
    }
    const rest = chunks.slice(1)[Symbol.iterator]();
    const it: AsyncIterator<StreamChunk> = { next: async () => rest.next() };
    return streamOut(ex, target, req, { kind: 'stream', first: chunks[0], rest: it }, ex.gw.pipeline.entries.length, false);
  }
  const headers: Record<string, string> = { 'content-type': 'application/json', 'x-request-id': ex.ctx.requestId, 'x-gatehouse-provider': target.provider.name };
  if (ex.obs) ex.obs.usage = usageOf(responseBody(resp));
  if (codec) {
    const out = codec.render(resp, req);
    headers['content-type'] = out.contentType;
    return finish(ex, { status_code: 200, headers, body: typeof out.body === 'string' ? Buffer.from(out.body) : out.body });
  }
  // Still attached only if no hook could have changed the parsed body: the provider's own text goes out as it came.
  const raw = rawBodyOf(resp);
  await finish(ex, { status_code: 200, headers, body: Buffer.from(raw ?? JSON.stringify(responseBody(resp))) });
}

/**
 * Writes a stream as it arrives. Per event: LLM post-hooks (with the chunk under the request
 * type's key), then chunk hooks, then the write (through the front's encoder when the route has
 * one), which waits when the client's socket is full. A failure after the first byte cannot
 * change the status any more: it becomes an error event in the front's shape, then the end.
 */
async function streamOut(ex: Exchange, target: Target, req: LLMRequest, outcome: Extract<CallOutcome, { kind: 'stream' }>, ran: number, runPost = true): Promise<void> {
  const { gw, ctx, sink } = ex;
  const pipeline = gw.pipeline;
  const headers: Record<string, string> = { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', ...idHeaders(ex, target) };
  // For a stream, the overhead reported is the gateway's time before the first event.
  headers['x-gatehouse-overhead-ms'] = overheadMs(ex);
  sink.startStream(200, headers);
  const obs = ex.obs;
  if (obs) { obs.status = 200; obs.stream = true; }
  let lastJson: string | undefined;
  const encoder = ex.inbound.codec?.encoder(req);
  const key = RESPONSE_KEY[req.request_type];
  let chunk = outcome.first;
  const it = outcome.rest;
  let completed = false;
  try {
    while (chunk) {
      let out: StreamChunk | null = chunk;
      if (runPost && pipeline.hasPostLLM) out = await postHookChunk(ex, chunk, ran, key);
      if (out && ex.http && pipeline.hasStreamChunk) out = await pipeline.runStreamChunk(ctx, ex.http, out);
      if (out) {
        if (obs) {
          obs.ttftMs ??= performance.now() - ex.startedAt;
          lastJson = out.json;
        }
        const w = encoder ? writeFrames(sink, encoder.event(out)) : sink.writeEvent(out.json);
        if (w) await w;
      }
      if (sink.signal.aborted) break;
      const next = await it.next();
      chunk = next.done ? undefined : next.value;
    }
    completed = !sink.signal.aborted;
    if (completed) {
      if (encoder) await writeFrames(sink, encoder.end());
      else sink.writeEvent('[DONE]');
    }
  } catch (err) {
    const e = withoutKeys(gw, toError(err));
    if (ex.obs) ex.obs.errorCode = e.code;
    if (!sink.signal.aborted) {
      gw.log.warn({ request_id: ctx.requestId, provider: target.provider.name, code: e.code, err: e.message }, 'stream ended with an error');
      const frame = streamErrorEvent(ex.inbound.front, e, ctx.requestId);
      sink.writeEvent(frame.data, frame.event);
    }
  } finally {
    if (!completed) await it.return?.().catch(() => undefined);
    sink.endStream();
  }
  // Usage comes in the last event (stream_options.include_usage); read once, at the end.
  if (obs && lastJson !== undefined && lastJson.includes('"usage"')) obs.usage = usageOf(JSON.parse(lastJson));
  if (!completed && sink.signal.aborted && !sink.wasCut) logClientLeft(ex, target.provider.name, 'stream');
  if (ex.http && pipeline.hasHttpPost) await pipeline.runHttpPost(ctx, ex.http, { status_code: 200, headers, body: null });
}

/**
 * A vendor front's answer from a provider of the same format, as it came: a whole body (transport
 * post-hooks still see it), or stream bytes written as they arrive.
 */
async function sendPassthrough(ex: Exchange, target: Target, out: Extract<CallOutcome, { kind: 'passthrough' }>): Promise<void> {
  const { gw, ctx, sink } = ex;
  const headers: Record<string, string> = { 'content-type': out.contentType, ...idHeaders(ex, target) };
  if (!out.stream) {
    const parts: Uint8Array[] = [];
    for await (const b of out.body) parts.push(b);
    return finish(ex, { status_code: 200, headers, body: Buffer.concat(parts) });
  }
  headers['cache-control'] = 'no-cache';
  headers['x-gatehouse-overhead-ms'] = overheadMs(ex);
  sink.startStream(200, headers);
  if (ex.obs) { ex.obs.status = 200; ex.obs.stream = true; }
  const it = out.body[Symbol.asyncIterator]();
  let completed = false;
  try {
    for (;;) {
      const next = await it.next();
      if (next.done) break;
      const w = sink.writeRaw(next.value);
      if (w) await w;
      if (sink.signal.aborted) break;
    }
    completed = !sink.signal.aborted;
  } catch (err) {
    const e = withoutKeys(gw, toError(err));
    if (ex.obs) ex.obs.errorCode = e.code;
    if (!sink.signal.aborted) {
      gw.log.warn({ request_id: ctx.requestId, provider: target.provider.name, code: e.code, err: e.message }, 'stream ended with an error');
      const frame = streamErrorEvent(ex.inbound.front, e, ctx.requestId);
      sink.writeEvent(frame.data, frame.event);
    }
  } finally {
    if (!completed) await it.return?.().catch(() => undefined);
    sink.endStream();
  }
  if (ex.http && gw.pipeline.hasHttpPost) await gw.pipeline.runHttpPost(ctx, ex.http, { status_code: 200, headers, body: null });
}

/** Writes encoder output; resolves when the socket has room again. */
async function writeFrames(sink: ResponseSink, frames: SseFrame[]): Promise<void> {
  for (const f of frames) {
    const w = sink.writeEvent(f.data, f.event);
    if (w) await w;
  }
}

async function postHookChunk(ex: Exchange, chunk: StreamChunk, ran: number, key: string): Promise<StreamChunk | null> {
  const env = key === 'chat_response' ? chunkEnvelope(chunk) : { [key]: chunk.value };
  const out = await ex.gw.pipeline.runPostLLM(ex.ctx, env, null, ran);
  if (out.error) throw fromLLMError(out.error);
  if (!out.response) return null;
  // Untouched (its raw text still attached): the event goes on as it came, never parsed.
  if (out.response === env && rawBodyOf(env) !== undefined) return chunk;
  const body = responseBody(out.response);
  if (body !== chunk.value && body && typeof body === 'object') chunk.value = body as Record<string, unknown>;
  return chunk;
}

/** Runs transport post-hooks (when any) over the final response, then sends it. */
async function finish(ex: Exchange, resp: HttpResponseData, ran?: number): Promise<void> {
  if (ex.http && ex.gw.pipeline.hasHttpPost) await ex.gw.pipeline.runHttpPost(ex.ctx, ex.http, resp, ran);
  resp.headers['x-gatehouse-overhead-ms'] = overheadMs(ex);
  if (ex.obs) ex.obs.status = resp.status_code;
  ex.sink.send(resp.status_code, resp.headers, resp.body);
}

/** Time spent in the gateway itself (plugins included), i.e. everything but waiting on providers. */
function overheadMs(ex: Exchange): string {
  return Math.max(0, performance.now() - ex.startedAt - ex.upstreamMs).toFixed(3);
}

function errorResponse(ex: Exchange, e: GatewayError, target?: Target): HttpResponseData {
  if (ex.obs) ex.obs.errorCode = e.code;
  if (e.status >= 500) ex.gw.log.warn({ request_id: ex.ctx.requestId, code: e.code, status: e.status, err: e.message }, 'request failed');
  else if (e.code === 'GH_ERR_CLIENT_CLOSED') logClientLeft(ex, e.provider, 'request');
  const r = renderError(ex.inbound.front, e, ex.ctx.requestId);
  if (target) r.headers['x-gatehouse-provider'] = target.provider.name;
  // A plugin whose workers are all busy: the request may simply be sent again.
  if (e.upstreamCode === 'GH_ERR_PLUGIN_BUSY') r.headers['retry-after'] = '1';
  return r;
}

/** A client leaving is routine (a timeout on its side, a user pressing stop): info, not a warning. */
function logClientLeft(ex: Exchange, provider: string | undefined, what: 'request' | 'stream'): void {
  ex.gw.log.info({ request_id: ex.ctx.requestId, code: 'GH_ERR_CLIENT_CLOSED', provider }, `client closed the ${what}`);
}

function idHeaders(ex: Exchange, target: Target): Record<string, string> {
  return { 'x-request-id': ex.ctx.requestId, 'x-gatehouse-provider': target.provider.name };
}

function describeTarget(t: Target | undefined): string {
  return t ? `${t.provider.name}/${t.model}` : '';
}

function toError(err: unknown): GatewayError {
  if (isGatewayError(err)) return err;
  // A deliberate rejection by a plugin (transport pre-hook, chunk hook) answers with the plugin's error.
  if (err instanceof PluginRejection) return fromLLMError(err.error);
  return new GatewayError('GH_ERR_INTERNAL', `internal error: ${describe(err)}`, { cause: err });
}

/** Every configured provider key long enough to be a secret, per gateway (computed on the first error). */
const secretsOf = new WeakMap<Gateway, string[]>();

/**
 * A provider error may quote the key it refused ("Incorrect API key provided: sk-...") in any of
 * its fields: the keys are cut out before the error reaches a plugin, a log line or the client.
 */
function withoutKeys(gw: Gateway, e: GatewayError): GatewayError {
  let secrets = secretsOf.get(gw);
  if (!secrets) {
    secrets = [...gw.config.providers.values()].flatMap((p) => p.keys.map((k) => k.value)).filter((v) => typeof v === 'string' && v.length >= 8);
    secretsOf.set(gw, secrets);
  }
  return withoutSecrets(e, secrets);
}

/** The transport hooks' view of the request; headers keep the client's case. */
function toHttpRequest(inbound: InboundRequest): HttpRequestData {
  const headers = emptyMap<string>();
  const raw = inbound.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const k = raw[i] as string;
    headers[k] = headers[k] === undefined ? (raw[i + 1] as string) : `${headers[k]}, ${raw[i + 1]}`;
  }
  return { method: inbound.method, path: inbound.path, headers, query: mapOf(inbound.query), path_params: emptyMap<string>(), body: inbound.body };
}
