/**
 * mock-responder: answers requests for configured model names with a canned reply, without
 * calling any provider (the LLM pre-hook short-circuits with a response). Streaming clients get
 * the reply as stream events: the gateway turns a whole response into chunks.
 */
import type { LLMRequest, LLMResponse, Plugin, RequestContext } from '../../../packages/gateway/src/index.js';

interface MockResponderConfig {
  /** Model name (`model` or `provider/model`, as the client wrote it) → reply text. */
  replies?: Record<string, string>;
}

let replies: Record<string, string> = {};
let seq = 0;

function words(s: string): number {
  return s.split(/\s+/).filter(Boolean).length;
}

function promptWords(req: LLMRequest): number {
  if (typeof req.input === 'string') return words(req.input);
  if (!Array.isArray(req.input)) return 0;
  return (req.input as Array<{ content?: unknown }>).reduce((n, m) => n + (typeof m?.content === 'string' ? words(m.content) : 0), 0);
}

function cannedResponse(req: LLMRequest, reply: string): LLMResponse {
  const id = `canned-${Date.now().toString(36)}-${(seq++).toString(36)}`;
  const created = Math.floor(Date.now() / 1000);
  const usage = { prompt_tokens: promptWords(req), completion_tokens: words(reply), total_tokens: promptWords(req) + words(reply) };
  if (req.request_type === 'text_completion') {
    return { text_completion_response: { id, object: 'text_completion', created, model: req.model, choices: [{ index: 0, text: reply, finish_reason: 'stop', logprobs: null }], usage } };
  }
  return {
    chat_response: {
      id, object: 'chat.completion', created, model: req.model,
      choices: [{ index: 0, message: { role: 'assistant', content: reply }, finish_reason: 'stop', logprobs: null }],
      usage,
    },
  };
}

const plugin: Plugin & { init(config: MockResponderConfig): void } = {
  name: 'mock-responder',

  init(config: MockResponderConfig) {
    const r = config.replies;
    if (!r || typeof r !== 'object' || Object.values(r).some((v) => typeof v !== 'string')) {
      throw new Error('config.replies must map model names to reply strings, e.g. {"mock/canned": "Hello!"}');
    }
    replies = { ...r };
  },

  preLLMHook(ctx: RequestContext, req: LLMRequest) {
    if (req.request_type === 'embedding') return undefined;
    const reply = replies[`${req.provider}/${req.model}`] ?? replies[req.model];
    if (reply === undefined) return undefined;
    ctx.setValue('mock_responder.answered', true);
    return { shortCircuit: { response: cannedResponse(req, reply) } };
  },
};

export default plugin;
