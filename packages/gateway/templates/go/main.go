// __NAME__: a Gatehouse WASM plugin for TinyGo (target wasi). pre_hook notes the model in the
// request context and answers requests for the blocked model with a 403.
package main

import (
	"encoding/json"
	"unsafe"
)

// TinyGo's libc owns malloc/free, so the plugin exports plugin_malloc/plugin_free, which the
// gateway prefers. Blocks are kept reachable in `live` until the host frees them.
var live = map[uintptr][]byte{}

//export plugin_malloc
func pluginMalloc(size uint32) uint32 {
	if size == 0 {
		size = 1
	}
	buf := make([]byte, size)
	p := uintptr(unsafe.Pointer(&buf[0]))
	live[p] = buf
	return uint32(p)
}

//export plugin_free
func pluginFree(ptr uint32) {
	delete(live, uintptr(ptr))
}

func input(ptr, length uint32) []byte {
	return unsafe.Slice((*byte)(unsafe.Pointer(uintptr(ptr))), length)
}

func output(v any) uint64 {
	b, err := json.Marshal(v)
	if err != nil {
		return 0
	}
	p := pluginMalloc(uint32(len(b)))
	copy(input(p, uint32(len(b))), b)
	return uint64(p)<<32 | uint64(len(b))
}

var blockedModel = "blocked-model"

//export init
func initPlugin(ptr, length uint32) int32 {
	var cfg struct {
		BlockedModel string `json:"blocked_model"`
	}
	if err := json.Unmarshal(input(ptr, length), &cfg); err != nil {
		return 1
	}
	if cfg.BlockedModel != "" {
		blockedModel = cfg.BlockedModel
	}
	return 0
}

//export pre_hook
func preHook(ptr, length uint32) uint64 {
	var in struct {
		Context map[string]any `json:"context"`
		Request struct {
			Model string `json:"model"`
		} `json:"request"`
	}
	if err := json.Unmarshal(input(ptr, length), &in); err != nil {
		return 0 // unreadable input: change nothing
	}
	if in.Context == nil {
		in.Context = map[string]any{}
	}
	in.Context["__NAME__.model"] = in.Request.Model
	out := map[string]any{"context": in.Context, "request": nil, "has_short_circuit": false, "error": ""}
	if in.Request.Model == blockedModel {
		out["has_short_circuit"] = true
		out["short_circuit"] = map[string]any{"error": map[string]any{
			"status_code":     403,
			"error":           map[string]any{"message": "model " + in.Request.Model + " is blocked by __NAME__", "type": "forbidden", "code": "403"},
			"allow_fallbacks": false,
		}}
	}
	return output(out)
}

func main() {}
