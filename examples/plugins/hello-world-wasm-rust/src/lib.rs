//! hello-world-wasm-rust: a Gatehouse WASM plugin in Rust with serde.
//!
//! - every hook records a value in the request context (`hello.*` keys), and later hooks read them;
//! - `http_post_hook` adds a response header (default `x-hello-wasm`) summarising those values;
//!   when streaming, the last chunk carries the summary instead (`hello_wasm`);
//! - `pre_hook` answers by itself, without calling the provider, when the model is `mock-model`.
//!
//! The binary interface (contract section 3): the host calls `malloc` to place the input JSON in
//! our memory, calls a hook with (ptr, len), and reads the output at the pointer/length packed in
//! the returned u64 (pointer in the upper half). It frees both blocks with `free(ptr, len)`.

use serde::Deserialize;
use serde_json::{json, Map, Value};
use std::alloc::{alloc, dealloc, Layout};
use std::cell::RefCell;

// ---- memory shared with the host -----------------------------------------------------------

fn layout(size: u32) -> Layout {
    // Zero-sized allocations are not allowed; the host may ask for 0 bytes (empty config).
    Layout::from_size_align(size.max(1) as usize, 1).expect("valid layout")
}

#[no_mangle]
pub extern "C" fn malloc(size: u32) -> u32 {
    unsafe { alloc(layout(size)) as u32 }
}

/// Two arguments: Rust's allocator needs the size to release a block.
#[no_mangle]
pub extern "C" fn free(ptr: u32, size: u32) {
    if ptr != 0 {
        unsafe { dealloc(ptr as *mut u8, layout(size)) }
    }
}

fn input_bytes<'a>(ptr: u32, len: u32) -> &'a [u8] {
    unsafe { std::slice::from_raw_parts(ptr as *const u8, len as usize) }
}

/// Copies `bytes` into a fresh `malloc` block (the host frees it) and packs pointer and length.
fn hand_over(bytes: &[u8]) -> u64 {
    let ptr = malloc(bytes.len() as u32);
    unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), ptr as *mut u8, bytes.len()) };
    ((ptr as u64) << 32) | bytes.len() as u64
}

fn reply(v: &Value) -> u64 {
    hand_over(&serde_json::to_vec(v).unwrap_or_else(|_| b"{}".to_vec()))
}

// ---- configuration ---------------------------------------------------------------------------

#[derive(Deserialize)]
#[serde(default)]
struct Config {
    /// Response header that carries the summary.
    header: String,
    /// Text of the mock answer.
    greeting: String,
    /// Model name that gets the mock answer.
    mock_model: String,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            header: "x-hello-wasm".into(),
            greeting: "Hello from WebAssembly".into(),
            mock_model: "mock-model".into(),
        }
    }
}

thread_local! {
    static CONFIG: RefCell<Config> = RefCell::new(Config::default());
}

fn with_config<T>(f: impl FnOnce(&Config) -> T) -> T {
    CONFIG.with(|c| f(&c.borrow()))
}

// ---- lifecycle -------------------------------------------------------------------------------

#[no_mangle]
pub extern "C" fn get_name() -> u64 {
    hand_over(b"hello-world-wasm-rust")
}

/// Receives the entry's `config` object as JSON. Non-zero refuses to load.
#[no_mangle]
pub extern "C" fn init(ptr: u32, len: u32) -> i32 {
    match serde_json::from_slice::<Config>(input_bytes(ptr, len)) {
        Ok(cfg) if !cfg.header.is_empty() => {
            CONFIG.with(|c| *c.borrow_mut() = cfg);
            0
        }
        _ => 1,
    }
}

#[no_mangle]
pub extern "C" fn cleanup() -> i32 {
    0
}

// ---- hooks -----------------------------------------------------------------------------------

/// The hook's input document, with the context taken out so each hook can add to it.
struct Hook {
    doc: Map<String, Value>,
    context: Map<String, Value>,
}

impl Hook {
    fn read(ptr: u32, len: u32) -> Hook {
        let mut doc = match serde_json::from_slice::<Value>(input_bytes(ptr, len)) {
            Ok(Value::Object(m)) => m,
            _ => Map::new(),
        };
        // Return the context we were given plus our keys: a key left out would be removed.
        let context = match doc.remove("context") {
            Some(Value::Object(m)) => m,
            _ => Map::new(),
        };
        Hook { doc, context }
    }

    fn get(&self, key: &str) -> &Value {
        self.doc.get(key).unwrap_or(&Value::Null)
    }

    fn set(&mut self, key: &str, value: Value) {
        self.context.insert(key.to_string(), value);
    }

    fn seen(&self, key: &str) -> &str {
        self.context.get(key).and_then(Value::as_str).unwrap_or("")
    }
}

#[no_mangle]
pub extern "C" fn http_pre_hook(ptr: u32, len: u32) -> u64 {
    let mut h = Hook::read(ptr, len);
    let req = h.get("request");
    let line = format!(
        "{} {}",
        req.get("method").and_then(Value::as_str).unwrap_or("?"),
        req.get("path").and_then(Value::as_str).unwrap_or("?")
    );
    h.set("hello.http_pre", json!(line));
    // request null: unchanged; no response: carry on.
    reply(&json!({ "context": h.context, "request": null, "response": null, "has_response": false, "error": "" }))
}

#[no_mangle]
pub extern "C" fn pre_hook(ptr: u32, len: u32) -> u64 {
    let mut h = Hook::read(ptr, len);
    let req = h.get("request").clone();
    let model = req.get("model").and_then(Value::as_str).unwrap_or("").to_string();
    let provider = req.get("provider").and_then(Value::as_str).unwrap_or("").to_string();
    let after = h.seen("hello.http_pre").to_string();
    h.set("hello.pre", json!(format!("{}/{} after {}", provider, model, after)));

    if with_config(|c| c.mock_model == model) {
        h.set("hello.mocked", json!(true));
        // The text of the last user message, when it is a plain string.
        let said = req
            .get("input")
            .and_then(Value::as_array)
            .and_then(|msgs| msgs.iter().rev().find(|m| m.get("role").and_then(Value::as_str) == Some("user")))
            .and_then(|m| m.get("content"))
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let answer = with_config(|c| format!("{} (you said: {})", c.greeting, said));
        let completion = json!({
            "id": "chatcmpl-hello-rust",
            "object": "chat.completion",
            "created": 0,
            "model": model,
            "choices": [{
                "index": 0,
                "message": { "role": "assistant", "content": answer },
                "finish_reason": "stop"
            }],
            "usage": { "prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0 }
        });
        return reply(&json!({
            "context": h.context,
            "request": null,
            "short_circuit": { "response": { "chat_response": completion } },
            "has_short_circuit": true,
            "error": ""
        }));
    }
    reply(&json!({ "context": h.context, "request": null, "short_circuit": null, "has_short_circuit": false, "error": "" }))
}

#[no_mangle]
pub extern "C" fn post_hook(ptr: u32, len: u32) -> u64 {
    let mut h = Hook::read(ptr, len);
    let has_error = h.get("has_error").as_bool().unwrap_or(false);
    let is_chunk = h.get("response").pointer("/chat_response/object").and_then(Value::as_str) == Some("chat.completion.chunk");
    if has_error {
        let status = h.get("error").get("status_code").and_then(Value::as_i64).unwrap_or(0);
        h.set("hello.post", json!(format!("error {}", status)));
    } else if is_chunk {
        // Streaming: post_hook runs once per chunk.
        let n = h.context.get("hello.post_chunks").and_then(Value::as_u64).unwrap_or(0) + 1;
        h.set("hello.post_chunks", json!(n));
    } else {
        h.set("hello.post", json!("response"));
    }
    // Response and error unchanged: send back what we got.
    let (response, error) = (h.get("response").clone(), h.get("error").clone());
    reply(&json!({ "context": h.context, "response": response, "error": error, "has_error": has_error, "hook_error": "" }))
}

#[no_mangle]
pub extern "C" fn http_stream_chunk_hook(ptr: u32, len: u32) -> u64 {
    let mut h = Hook::read(ptr, len);
    let n = h.context.get("hello.chunks").and_then(Value::as_u64).unwrap_or(0) + 1;
    h.set("hello.chunks", json!(n));
    let mut chunk = h.get("chunk").clone();
    let finished = chunk.pointer("/choices/0/finish_reason").map_or(false, |f| !f.is_null());
    if finished {
        // The last chunk carries a summary, since the response headers are already sent.
        let summary = json!({ "http_pre": h.seen("hello.http_pre"), "pre": h.seen("hello.pre"), "chunks": n });
        if let Some(obj) = chunk.as_object_mut() {
            obj.insert("hello_wasm".into(), summary);
        }
    }
    // has_chunk true with the chunk: send it (has_chunk false would drop it, as skip does).
    reply(&json!({ "context": h.context, "chunk": chunk, "has_chunk": true, "skip": false, "error": "" }))
}

#[no_mangle]
pub extern "C" fn http_post_hook(ptr: u32, len: u32) -> u64 {
    let mut h = Hook::read(ptr, len);
    let summary = json!({
        "http_pre": h.seen("hello.http_pre"),
        "pre": h.seen("hello.pre"),
        "post": h.seen("hello.post"),
    });
    h.set("hello.http_post", json!(true));
    let header = with_config(|c| c.header.clone());
    let mut headers = Map::new();
    headers.insert(header, Value::String(summary.to_string()));
    // Only the header changes: status and body null keep the gateway's response as it is.
    reply(&json!({
        "context": h.context,
        "response": { "status_code": null, "headers": headers, "body": null },
        "error": ""
    }))
}
