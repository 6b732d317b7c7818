import { helloWorldSuite } from '../hello-world.suite.js';

helloWorldSuite({
  label: 'hello-world-wasm-rust',
  wasm: new URL('./build/hello-world-wasm-rust.wasm', import.meta.url).pathname,
  name: 'hello-rust',
  header: 'x-hello-rust',
  greeting: 'Hi from Rust',
});
