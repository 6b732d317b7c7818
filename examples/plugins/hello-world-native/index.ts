/**
 * hello-world-native: the smallest plugin that uses every hook. Each hook logs one line and
 * leaves a value in the request context; later hooks read what earlier ones left, and the
 * transport post-hook reports it all in an `x-hello-world` response header (or, when streaming,
 * in a `hello_world` field of the last chunk, since the headers are already sent by then).
 */
import type {
  ChunkObject, HttpRequestData, HttpResponseData, LLMError, LLMRequest, LLMResponse, Plugin, RequestContext,
} from '../../../packages/gateway/src/index.js';

interface HelloConfig {
  /** Log a line per hook (default true). */
  log?: boolean;
  /** Response header to report the context in (default `x-hello-world`). */
  header?: string;
}

export default function helloWorld(config: HelloConfig = {}): Plugin {
  const header = config.header ?? 'x-hello-world';
  const log = (hook: string, ctx: RequestContext, detail: string): void => {
    if (config.log !== false) console.log(`[hello-world] ${hook} request=${String(ctx.value('request_id'))} ${detail}`);
  };
  const summary = (ctx: RequestContext): Record<string, unknown> => ({
    http_pre: ctx.value('hello.http_pre'),
    pre: ctx.value('hello.pre'),
    post: ctx.value('hello.post'),
    chunks: ctx.value('hello.chunks'),
  });

  return {
    name: 'hello-world-native',

    httpTransportPreHook(ctx: RequestContext, req: HttpRequestData) {
      ctx.setValue('hello.http_pre', `${req.method} ${req.path}`);
      log('httpTransportPreHook', ctx, `${req.method} ${req.path}`);
    },

    preLLMHook(ctx: RequestContext, req: LLMRequest) {
      const earlier = ctx.value('hello.http_pre');
      ctx.setValue('hello.pre', `${req.provider}/${req.model} after ${String(earlier)}`);
      log('preLLMHook', ctx, `model=${req.provider}/${req.model} saw hello.http_pre=${String(earlier)}`);
    },

    postLLMHook(ctx: RequestContext, resp: LLMResponse | null, err: LLMError | null) {
      // Streaming calls this once per chunk: count them, but log only the first.
      const calls = Number(ctx.value('hello.post_calls') ?? 0) + 1;
      ctx.setValue('hello.post_calls', calls);
      ctx.setValue('hello.post', err ? `error ${String(err.status_code)}` : resp ? 'response' : 'nothing');
      if (calls === 1) log('postLLMHook', ctx, `saw hello.pre=${String(ctx.value('hello.pre'))}`);
    },

    httpTransportStreamChunkHook(ctx: RequestContext, _req: HttpRequestData, chunk: ChunkObject) {
      const n = Number(ctx.value('hello.chunks') ?? 0) + 1;
      ctx.setValue('hello.chunks', n);
      const choices = chunk.choices as Array<{ finish_reason?: string | null }> | undefined;
      if (choices?.some((c) => c.finish_reason)) {
        log('httpTransportStreamChunkHook', ctx, `${n} chunks`);
        return { ...chunk, hello_world: summary(ctx) };
      }
      return chunk;
    },

    httpTransportPostHook(ctx: RequestContext, _req: HttpRequestData, resp: HttpResponseData | null) {
      log('httpTransportPostHook', ctx, resp?.body ? `status=${resp.status_code}` : `status=${String(resp?.status_code)} (stream, no body)`);
      if (resp) resp.headers[header] = JSON.stringify(summary(ctx));
    },
  };
}
