// Gatehouse benchmark plugin (native ES module): implements every hook and does trivial work in
// each (reads a field, counts), answering "no change", so what is measured is the cost of the
// gateway calling the hook and preparing its input, not plugin logic.
export default function everyHook(config) {
  const id = String(config?.id ?? 'bench-native');
  let seen = 0;
  return {
    name: id,
    httpTransportPreHook(_ctx, req) { if (req.method) seen++; },
    preLLMHook(_ctx, req) { if (req.model) seen++; },
    postLLMHook(_ctx, resp) { if (resp) seen++; },
    httpTransportPostHook(_ctx, _req, resp) { if (resp) seen++; },
    httpTransportStreamChunkHook(_ctx, _req, chunk) { seen++; return chunk; },
    cleanup() { seen = 0; },
  };
}
