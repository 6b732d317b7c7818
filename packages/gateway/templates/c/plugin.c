// __NAME__: a Gatehouse WASM plugin in C, freestanding (no libc, no imports).
// pre_hook answers requests for "blocked-model" with a 403 without calling the provider;
// everything else passes through unchanged (a returned 0 means "no change").
#include <stddef.h>
#include <stdint.h>

#define EXPORT(name) __attribute__((export_name(name)))

extern unsigned char __heap_base;
static uintptr_t next = 0;

// A bump allocator that is reset when nothing is in use: the host frees every block it gets.
static size_t live = 0;
EXPORT("malloc") void *plugin_alloc(size_t size) {
  if (next == 0 || live == 0) next = (uintptr_t)&__heap_base;
  uintptr_t p = (next + 7) & ~(uintptr_t)7;
  uintptr_t end = p + (size ? size : 1);
  size_t have = __builtin_wasm_memory_size(0) * 65536;
  if (end > have && __builtin_wasm_memory_grow(0, (end - have + 65535) / 65536) == (size_t)-1) return 0;
  next = end;
  live++;
  return (void *)p;
}

EXPORT("free") void plugin_release(void *ptr) {
  if (ptr && live) live--;
}

static int contains(const char *s, size_t n, const char *needle) {
  size_t m = 0;
  while (needle[m]) m++;
  for (size_t i = 0; i + m <= n; i++) {
    size_t j = 0;
    while (j < m && s[i + j] == needle[j]) j++;
    if (j == m) return 1;
  }
  return 0;
}

static uint64_t constant(const char *text) {
  size_t n = 0;
  while (text[n]) n++;
  char *out = plugin_alloc(n);
  for (size_t i = 0; i < n; i++) out[i] = text[i];
  return ((uint64_t)(uintptr_t)out << 32) | n;
}

EXPORT("init") int init(const char *config, size_t len) { (void)config; (void)len; return 0; }

EXPORT("pre_hook") uint64_t pre_hook(const char *in, size_t len) {
  if (!contains(in, len, "\"model\":\"blocked-model\"")) return 0;
  return constant("{\"short_circuit\":{\"error\":{\"status_code\":403,\"error\":{\"message\":"
                  "\"model blocked-model is blocked by __NAME__\",\"type\":\"forbidden\",\"code\":\"403\"},"
                  "\"allow_fallbacks\":false}},\"has_short_circuit\":true}");
}
