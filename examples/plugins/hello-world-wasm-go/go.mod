module hello-world-wasm-go

go 1.21
