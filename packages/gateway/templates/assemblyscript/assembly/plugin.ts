// __NAME__: a Gatehouse WASM plugin in AssemblyScript, with @gatehouse/plugin-sdk.
// pre_hook notes the model in the request context and answers requests for the blocked model
// with a 403 (no fallbacks) without calling the provider.
import * as sdk from "@gatehouse/plugin-sdk";
import { Config, Context, LLMRequest, ShortCircuit, shortCircuit } from "@gatehouse/plugin-sdk";
import { malloc, free } from "@gatehouse/plugin-sdk";
export { malloc, free };

// Module globals live as long as the instance: config and state go here.
let blockedModel = "blocked-model";

function onInit(cfg: Config): bool {
  blockedModel = cfg.getString("blocked_model", blockedModel);
  return true; // false refuses to load
}

function onPre(ctx: Context, req: LLMRequest): ShortCircuit | null {
  ctx.set<string>("__NAME__.model", req.model);
  if (req.model == blockedModel) {
    return shortCircuit.error(403, "forbidden", "model " + req.model + " is blocked by __NAME__");
  }
  return null; // go on to the provider
}

export function get_name(): u64 { return sdk.name("__NAME__"); }
export function init(ptr: u32, len: u32): i32 { return sdk.init(ptr, len, onInit); }
export function pre_hook(ptr: u32, len: u32): u64 { return sdk.preHook(ptr, len, onPre); }
