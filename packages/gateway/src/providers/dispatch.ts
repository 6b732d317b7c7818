import { clientBodyOf, type LLMRequest, type RequestType } from '../schema/request.js';
import { isClassicType, typeHandler, unsupportedType, type ProviderAdapter, type ProviderCall, type ProviderResult } from './provider.js';

/**
 * Whether an adapter can serve a request type at all: `supports` for the classic types, the
 * type's own method for the others.
 */
export function adapterOffers(adapter: ProviderAdapter, type: RequestType): boolean {
  if (isClassicType(type)) return adapter.supports(type);
  return typeHandler(adapter, type) !== undefined;
}

/**
 * One upstream call of any request type. A vendor front's body goes untouched to a provider that
 * speaks the vendor's format (pass-through). The classic types go straight to `send` (chat's
 * path gains a property read and a comparison); the others to the adapter's method for the type, or a 400 naming the
 * provider and the type when it has none.
 */
export function callAdapter(adapter: ProviderAdapter, provider: string, req: LLMRequest, call: ProviderCall): Promise<ProviderResult> {
  const raw = clientBodyOf(req);
  if (raw !== undefined && adapter.forward && adapter.nativeFront === raw.format) return adapter.forward(raw, req, call);
  const type = req.request_type;
  if (isClassicType(type)) return adapter.send(req, call);
  const own = typeHandler(adapter, type);
  return own ? own(req, call) : Promise.reject(unsupportedType(provider, type));
}
