// The public API of the `gatehouse` package, listed export by export.
export { startGateway, type RunningGateway, type StartOptions } from './start.js';
export { Gateway } from './core/gateway.js';
export { AdminError, AdminRouter, HANDLED, Reply, notFound, badRequest, type AdminLayer, type AdminRequest } from './admin/index.js';
export { buildConfig, loadConfigFile, ConfigError, type GatewayConfig } from './config/load.js';
export { configJsonSchema } from './config/json-schema.js';
export { createLogger } from './observability/log.js';
export { PluginRejection, type Plugin, type PluginEntryConfig, type ChunkObject, type OnError, type Placement } from './plugins/plugin.js';
export { RequestContext } from './schema/context.js';
export { GatewayError, ERROR_CODES, type ErrorCode, type LLMError } from './schema/errors.js';
export type { HttpRequestData, HttpResponseData } from './schema/http.js';
export type { LLMRequest, RequestType } from './schema/request.js';
export type { LLMResponse } from './schema/response.js';
export type * from './schema/openai.js';

/** Identity helper that gives a plugin object its types: `export default definePlugin({ ... })`. */
export function definePlugin<T extends Partial<import('./plugins/plugin.js').Plugin>>(plugin: T): T {
  return plugin;
}
