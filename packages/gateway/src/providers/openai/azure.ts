import { GatewayError } from '../../schema/errors.js';
import type { LLMRequest, RequestType } from '../../schema/request.js';
import type { ClassicType } from '../provider.js';
import type { ProviderCall } from '../provider.js';
import { OpenAIAdapter } from './adapter.js';

const ENDPOINT: Record<ClassicType, string> = {
  chat_completion: '/chat/completions',
  text_completion: '/completions',
  embedding: '/embeddings',
};

/**
 * Azure OpenAI: the OpenAI wire format behind per-deployment URLs, an `api-version` query and an
 * `api-key` header. `meta_config.deployments` maps model names to deployment names.
 */
export class AzureAdapter extends OpenAIAdapter {
  constructor() {
    super('azure', { baseUrl: '', apiPrefix: '', requiresKey: true });
  }

  protected override url(req: LLMRequest, call: ProviderCall): string {
    const endpoint = String(call.meta.endpoint ?? call.network.baseUrl ?? '').replace(/\/+$/, '');
    if (!endpoint) throw new GatewayError('GH_ERR_INTERNAL', 'azure: no endpoint configured (meta_config.endpoint)', { provider: 'azure' });
    const version = String(call.meta.api_version ?? '2024-10-21');
    const deployment = encodeURIComponent(this.deployment(req.model, call));
    return `${endpoint}/openai/deployments/${deployment}${ENDPOINT[req.request_type as ClassicType]}?api-version=${encodeURIComponent(version)}`;
  }

  protected override headers(call: ProviderCall): Record<string, string> {
    const h: Record<string, string> = { 'content-type': 'application/json', ...call.network.extraHeaders };
    if (call.key.value) h['api-key'] = call.key.value;
    return h;
  }

  private deployment(model: string, call: ProviderCall): string {
    const map = (call.meta.deployments ?? {}) as Record<string, string>;
    return map[model] ?? model;
  }
}
