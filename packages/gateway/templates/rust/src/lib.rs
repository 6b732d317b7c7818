//! __NAME__: a Gatehouse WASM plugin in Rust. `pre_hook` notes the model in the request
//! context and answers requests for the blocked model with a 403, without calling the provider.
use serde::Deserialize;
use serde_json::{json, Map, Value};
use std::alloc::{alloc, dealloc, Layout};
use std::cell::RefCell;

// ---- the binary interface: the host allocates with malloc and frees with free(ptr, len) ----

fn layout(size: u32) -> Layout {
    Layout::from_size_align(size.max(1) as usize, 1).expect("valid layout")
}

#[no_mangle]
pub extern "C" fn malloc(size: u32) -> u32 {
    unsafe { alloc(layout(size)) as u32 }
}

#[no_mangle]
pub extern "C" fn free(ptr: u32, size: u32) {
    if ptr != 0 {
        unsafe { dealloc(ptr as *mut u8, layout(size)) }
    }
}

fn input<'a>(ptr: u32, len: u32) -> &'a [u8] {
    unsafe { std::slice::from_raw_parts(ptr as *const u8, len as usize) }
}

/// Copies the output into a malloc block the host frees; pointer in the upper 32 bits.
fn output(v: &Value) -> u64 {
    let bytes = serde_json::to_vec(v).unwrap_or_else(|_| b"{}".to_vec());
    let ptr = malloc(bytes.len() as u32);
    unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), ptr as *mut u8, bytes.len()) };
    ((ptr as u64) << 32) | bytes.len() as u64
}

// ---- configuration (the entry's "config" object) ----

#[derive(Deserialize)]
#[serde(default)]
struct Config {
    blocked_model: String,
}

impl Default for Config {
    fn default() -> Self {
        Config { blocked_model: "blocked-model".into() }
    }
}

thread_local! {
    static CONFIG: RefCell<Config> = RefCell::new(Config::default());
}

#[no_mangle]
pub extern "C" fn init(ptr: u32, len: u32) -> i32 {
    match serde_json::from_slice::<Config>(input(ptr, len)) {
        Ok(cfg) => {
            CONFIG.with(|c| *c.borrow_mut() = cfg);
            0
        }
        Err(_) => 1, // non-zero: the gateway refuses to load the plugin
    }
}

#[no_mangle]
pub extern "C" fn get_name() -> u64 {
    let name = b"__NAME__";
    let ptr = malloc(name.len() as u32);
    unsafe { std::ptr::copy_nonoverlapping(name.as_ptr(), ptr as *mut u8, name.len()) };
    ((ptr as u64) << 32) | name.len() as u64
}

#[no_mangle]
pub extern "C" fn cleanup() -> i32 {
    0
}

// ---- hooks ----

#[no_mangle]
pub extern "C" fn pre_hook(ptr: u32, len: u32) -> u64 {
    let doc: Value = serde_json::from_slice(input(ptr, len)).unwrap_or(Value::Null);
    // Give back the context we got, plus our key: a key left out would be removed.
    let mut context = doc.get("context").and_then(Value::as_object).cloned().unwrap_or_else(Map::new);
    let model = doc.pointer("/request/model").and_then(Value::as_str).unwrap_or("").to_string();
    context.insert("__NAME__.model".into(), json!(model));

    if CONFIG.with(|c| c.borrow().blocked_model == model) {
        return output(&json!({
            "context": context,
            "request": null,
            "short_circuit": { "error": {
                "status_code": 403,
                "error": { "message": format!("model {} is blocked by __NAME__", model), "type": "forbidden", "code": "403" },
                "allow_fallbacks": false
            }},
            "has_short_circuit": true,
            "error": ""
        }));
    }
    // request null: unchanged.
    output(&json!({ "context": context, "request": null, "short_circuit": null, "has_short_circuit": false, "error": "" }))
}
