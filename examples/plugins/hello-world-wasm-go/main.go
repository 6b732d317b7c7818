// hello-world-wasm-go: the hello-world WASM plugin for TinyGo (target wasi). Every hook leaves a
// value in the request context and reads what earlier hooks left; http_post_hook reports them in
// a response header; pre_hook answers by itself when the model is "mock-model".
//
// Not built here or in CI: TinyGo is not installable on this project's machines (see README).
package main

import (
	"encoding/json"
	"fmt"
	"unsafe"
)

// ---- the binary interface ------------------------------------------------------------------

// TinyGo's C library already defines malloc and free, so the plugin exports plugin_malloc and
// plugin_free; the gateway uses those when present. A block stays reachable in `blocks` (so the
// collector keeps it) until the host hands it back.
var blocks = map[uint32][]byte{}

//export plugin_malloc
func pluginMalloc(size uint32) uint32 {
	if size == 0 {
		size = 1
	}
	buf := make([]byte, size)
	ptr := uint32(uintptr(unsafe.Pointer(&buf[0])))
	blocks[ptr] = buf
	return ptr
}

//export plugin_free
func pluginFree(ptr uint32) {
	delete(blocks, ptr)
}

func bytesAt(ptr, size uint32) []byte {
	return unsafe.Slice((*byte)(unsafe.Pointer(uintptr(ptr))), size)
}

// handOver copies b into a block the host frees and packs pointer (high 32 bits) and length.
func handOver(b []byte) uint64 {
	ptr := pluginMalloc(uint32(len(b)))
	copy(bytesAt(ptr, uint32(len(b))), b)
	return uint64(ptr)<<32 | uint64(len(b))
}

func reply(v map[string]any) uint64 {
	b, err := json.Marshal(v)
	if err != nil {
		return 0 // no change
	}
	return handOver(b)
}

type object = map[string]any

// readHook parses a hook's input and takes its context out, so the hook can add to it and give
// the whole context back (a key left out would be removed from the request).
func readHook(ptr, size uint32) (doc object, ctx object) {
	doc = object{}
	_ = json.Unmarshal(bytesAt(ptr, size), &doc)
	ctx, _ = doc["context"].(object)
	if ctx == nil {
		ctx = object{}
	}
	return doc, ctx
}

func str(m object, key string) string {
	s, _ := m[key].(string)
	return s
}

func obj(m object, key string) object {
	o, _ := m[key].(object)
	if o == nil {
		return object{}
	}
	return o
}

// ---- configuration and lifecycle -----------------------------------------------------------

var header = "x-hello-wasm"
var greeting = "Hello from WebAssembly"

//export get_name
func getName() uint64 {
	return handOver([]byte("hello-world-wasm-go"))
}

//export init
func initPlugin(ptr, size uint32) int32 {
	cfg := object{}
	if err := json.Unmarshal(bytesAt(ptr, size), &cfg); err != nil {
		return 1
	}
	if h, ok := cfg["header"].(string); ok {
		header = h
	}
	if g, ok := cfg["greeting"].(string); ok {
		greeting = g
	}
	if header == "" {
		return 1 // the gateway refuses to load the plugin
	}
	return 0
}

//export cleanup
func cleanup() int32 { return 0 }

// ---- hooks -----------------------------------------------------------------------------------

//export http_pre_hook
func httpPreHook(ptr, size uint32) uint64 {
	doc, ctx := readHook(ptr, size)
	req := obj(doc, "request")
	ctx["hello.http_pre"] = str(req, "method") + " " + str(req, "path")
	return reply(object{"context": ctx, "request": nil, "response": nil, "has_response": false, "error": ""})
}

//export pre_hook
func preHook(ptr, size uint32) uint64 {
	doc, ctx := readHook(ptr, size)
	req := obj(doc, "request")
	model := str(req, "model")
	ctx["hello.pre"] = str(req, "provider") + "/" + model + " after " + str(ctx, "hello.http_pre")
	if model != "mock-model" {
		return reply(object{"context": ctx, "request": nil, "short_circuit": nil, "has_short_circuit": false, "error": ""})
	}
	said := ""
	if msgs, ok := req["input"].([]any); ok {
		for i := len(msgs) - 1; i >= 0; i-- {
			if m, ok := msgs[i].(object); ok && str(m, "role") == "user" {
				said = str(m, "content")
				break
			}
		}
	}
	completion := object{
		"id": "chatcmpl-hello-go", "object": "chat.completion", "created": 0, "model": model,
		"choices": []any{object{
			"index":         0,
			"message":       object{"role": "assistant", "content": fmt.Sprintf("%s (you said: %s)", greeting, said)},
			"finish_reason": "stop",
		}},
		"usage": object{"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
	}
	return reply(object{
		"context": ctx, "request": nil, "error": "",
		"short_circuit":     object{"response": object{"chat_response": completion}},
		"has_short_circuit": true,
	})
}

func count(ctx object, key string) int {
	n, _ := ctx[key].(float64) // JSON numbers decode as float64
	ctx[key] = int(n) + 1
	return int(n) + 1
}

//export post_hook
func postHook(ptr, size uint32) uint64 {
	doc, ctx := readHook(ptr, size)
	hasError, _ := doc["has_error"].(bool)
	switch {
	case hasError:
		status, _ := obj(doc, "error")["status_code"].(float64)
		ctx["hello.post"] = fmt.Sprintf("error %d", int(status))
	case str(obj(obj(doc, "response"), "chat_response"), "object") == "chat.completion.chunk":
		count(ctx, "hello.post_chunks") // streaming: once per chunk
	default:
		ctx["hello.post"] = "response"
	}
	return reply(object{"context": ctx, "response": doc["response"], "error": doc["error"], "has_error": hasError, "hook_error": ""})
}

//export http_stream_chunk_hook
func httpStreamChunkHook(ptr, size uint32) uint64 {
	doc, ctx := readHook(ptr, size)
	n := count(ctx, "hello.chunks")
	chunk := obj(doc, "chunk")
	if choices, ok := chunk["choices"].([]any); ok && len(choices) > 0 {
		if c, ok := choices[0].(object); ok && c["finish_reason"] != nil {
			// The last chunk carries the summary: the response headers are already sent.
			chunk["hello_wasm"] = object{"http_pre": str(ctx, "hello.http_pre"), "pre": str(ctx, "hello.pre"), "chunks": n}
		}
	}
	return reply(object{"context": ctx, "chunk": chunk, "has_chunk": true, "skip": false, "error": ""})
}

//export http_post_hook
func httpPostHook(ptr, size uint32) uint64 {
	_, ctx := readHook(ptr, size)
	summary, _ := json.Marshal(object{"http_pre": str(ctx, "hello.http_pre"), "pre": str(ctx, "hello.pre"), "post": str(ctx, "hello.post")})
	return reply(object{
		"context":  ctx,
		"response": object{"status_code": nil, "headers": object{header: string(summary)}, "body": nil},
		"error":    "",
	})
}

func main() {}
