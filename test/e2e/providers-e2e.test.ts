import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import OpenAI from 'openai';
import type { MockUpstream } from '../mocks/openai-upstream.js';
import { PROVIDER_CASES as cases } from '../helpers/provider-cases.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

/** The same client-side checks through every provider adapter, each against its own mock upstream. */


for (const c of cases) {
  describe(`${c.provider} (${c.model}) through the openai SDK`, () => {
    let mock: MockUpstream;
    let gw: TestGateway;
    let client: OpenAI;
    const model = `${c.provider}/${c.model}`;
    before(async () => {
      mock = await c.start();
      gw = await startTestGateway({ providers: { [c.provider]: c.config(mock.url) } });
      client = new OpenAI({ baseURL: gw.baseURL, apiKey: 'client', maxRetries: 0 });
    });
    after(async () => {
      await gw.close(500);
      await mock.close();
    });

    test('chat, non-streaming, with a system prompt', async () => {
      const res = await client.chat.completions.create({ model, messages: [{ role: 'system', content: 'be brief' }, { role: 'user', content: 'hello there' }] });
      assert.equal(res.object, 'chat.completion');
      assert.equal(res.choices[0]?.message.role, 'assistant');
      assert.equal(res.choices[0]?.message.content, 'Echo: hello there');
      assert.equal(res.choices[0]?.finish_reason, 'stop');
      assert.ok((res.usage?.total_tokens ?? 0) > 0);
    });

    test('chat, streaming, with usage', async () => {
      const stream = await client.chat.completions.create({ model, stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'stream these words please' }] });
      let text = '';
      let finish: string | null = null;
      let usage: unknown;
      let events = 0;
      for await (const chunk of stream) {
        events++;
        assert.equal(chunk.object, 'chat.completion.chunk');
        text += chunk.choices[0]?.delta.content ?? '';
        finish = chunk.choices[0]?.finish_reason ?? finish;
        usage = chunk.usage ?? usage;
      }
      assert.equal(text, 'Echo: stream these words please');
      assert.equal(finish, 'stop');
      assert.ok(events > 3, 'arrives in several events');
      assert.ok(usage);
    });

    test('tools: a tool call comes back, and a tool result goes up', async () => {
      const tools = [{ type: 'function' as const, function: { name: 'get_time', description: 'time', parameters: { type: 'object', properties: { tz: { type: 'string' } } } } }];
      const res = await client.chat.completions.create({ model, tools, messages: [{ role: 'user', content: 'please get_time' }] });
      const call = res.choices[0]?.message.tool_calls?.[0];
      assert.equal(res.choices[0]?.finish_reason, 'tool_calls');
      assert.ok(call && call.type === 'function');
      assert.equal(call.function.name, 'get_time');
      assert.deepEqual(JSON.parse(call.function.arguments), { input: 'please get_time' });
      const followUp = await client.chat.completions.create({
        model, tools,
        messages: [
          { role: 'user', content: 'please get_time' },
          { role: 'assistant', content: null, tool_calls: [call] },
          { role: 'tool', tool_call_id: call.id, content: '12:00' },
        ],
      });
      assert.match(followUp.choices[0]?.message.content ?? '', /Tool result: .*12:00/);
    });

    test('streamed tool call arrives as tool_calls deltas', async () => {
      const stream = await client.chat.completions.create({
        model, stream: true,
        tools: [{ type: 'function', function: { name: 'get_time', parameters: { type: 'object' } } }],
        messages: [{ role: 'user', content: 'get_time' }],
      });
      let name = '';
      let args = '';
      let finish: string | null = null;
      for await (const chunk of stream) {
        for (const t of chunk.choices[0]?.delta.tool_calls ?? []) {
          name += t.function?.name ?? '';
          args += t.function?.arguments ?? '';
        }
        finish = chunk.choices[0]?.finish_reason ?? finish;
      }
      assert.equal(name, 'get_time');
      assert.deepEqual(JSON.parse(args), { input: 'get_time' });
      assert.equal(finish, 'tool_calls');
    });

    test('images in content parts reach the provider', async () => {
      const res = await client.chat.completions.create({
        model,
        messages: [{ role: 'user', content: [{ type: 'text', text: 'look' }, { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } }] }],
      });
      assert.match(res.choices[0]?.message.content ?? '', /Echo: look \[1 image/);
    });

    test('upstream errors keep their status and message', async () => {
      mock.enqueue({ status: 429, message: 'quota exceeded for test' });
      await assert.rejects(client.chat.completions.create({ model, messages: [{ role: 'user', content: 'x' }] }), (err: unknown) => {
        assert.ok(err instanceof OpenAI.RateLimitError);
        assert.match(err.message, /quota exceeded for test/);
        return true;
      });
      mock.enqueue({ status: 400, message: 'bad thing in request' });
      await assert.rejects(client.chat.completions.create({ model, messages: [{ role: 'user', content: 'x' }] }), (err: unknown) => err instanceof OpenAI.BadRequestError && /bad thing in request/.test(err.message));
    });

    test('the provider key is sent upstream, never the client key', async () => {
      mock.reset();
      await client.chat.completions.create({ model, messages: [{ role: 'user', content: 'k' }] });
      assert.ok(mock.requests[0]?.key?.startsWith(c.sentKey), `sent ${mock.requests[0]?.key}`);
    });

    if (c.embeddings) {
      test('embeddings', async () => {
        const res = await client.embeddings.create({ model: `${c.provider}/${c.embeddings}`, input: ['alpha', 'beta'] });
        assert.equal(res.data.length, 2);
        assert.ok((res.data[0]?.embedding.length ?? 0) > 0);
      });
    } else {
      test('embeddings are refused with a clear 400', async () => {
        await assert.rejects(client.embeddings.create({ model: `${c.provider}/x`, input: 'a' }), (err: unknown) => err instanceof OpenAI.BadRequestError && /does not support embedding/.test(err.message));
      });
    }
  });
}
