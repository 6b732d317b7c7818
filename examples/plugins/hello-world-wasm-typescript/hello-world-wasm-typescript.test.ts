import { helloWorldSuite } from '../hello-world.suite.js';

helloWorldSuite({
  label: 'hello-world-wasm-typescript',
  wasm: new URL('./build/hello-world-wasm-typescript.wasm', import.meta.url).pathname,
  name: 'hello-wasm',
  header: 'x-hello-wasm',
  greeting: 'Hi from wasm',
});
