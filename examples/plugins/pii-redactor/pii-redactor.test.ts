import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import OpenAI from 'openai';
import { mockConfig, startTestGateway, type TestGateway } from '../../../test/helpers/gateway.js';
import { holdBackFrom, luhnValid, redactText } from './index.js';

const PLUGIN = new URL('./index.ts', import.meta.url).pathname;
const CARD = '4111 1111 1111 1111'; // Luhn-valid test number
const NOT_A_CARD = '1234 5678 9012 3456'; // fails the Luhn check

const gateways: TestGateway[] = [];
async function start(config: Record<string, unknown>): Promise<OpenAI> {
  const gw = await startTestGateway(mockConfig({
    providers: { mock: { keys: [{ value: '', models: [] }], meta_config: { chunk_delay_ms: 2 } } },
    plugins: [{ name: 'pii', path: PLUGIN, config }],
  }));
  gateways.push(gw);
  return new OpenAI({ baseURL: gw.baseURL, apiKey: 'unused', maxRetries: 0 });
}

async function streamed(client: OpenAI, content: string): Promise<string[]> {
  const stream = await client.chat.completions.create({ model: 'mock/m', stream: true, messages: [{ role: 'user', content }] });
  const pieces: string[] = [];
  for await (const chunk of stream) pieces.push(chunk.choices[0]?.delta.content ?? '');
  return pieces;
}

describe('example plugin: pii-redactor', () => {
  after(async () => { for (const gw of gateways) await gw.close(500); });

  test('the redaction rules', () => {
    assert.equal(luhnValid('4111111111111111'), true);
    assert.equal(luhnValid('1234567890123456'), false);
    assert.equal(redactText(`a ${CARD} b 5500-0000-0000-0004 c ${NOT_A_CARD} d jane.doe+x@mail.example.co.uk`),
      `a [REDACTED_CARD] b [REDACTED_CARD] c ${NOT_A_CARD} d [REDACTED_EMAIL]`);
    assert.equal(holdBackFrom('pay with 4111 1111 '), 'pay with '.length);
    assert.equal(holdBackFrom('mail jane.doe@exa'), 'mail '.length);
    assert.equal(holdBackFrom('nothing to hold '), 'nothing to hold '.length);
  });

  test('requests: e-mail addresses and card numbers never reach the provider', async () => {
    const client = await start({});
    const res = await client.chat.completions.create({
      model: 'mock/m',
      messages: [{ role: 'user', content: `mail jane.doe@example.com, card ${CARD}, order ${NOT_A_CARD}` }],
    });
    // The mock provider echoes what it received.
    assert.equal(res.choices[0]?.message.content, `Echo: mail [REDACTED_EMAIL], card [REDACTED_CARD], order ${NOT_A_CARD}`);
    const parts = await client.chat.completions.create({
      model: 'mock/m',
      messages: [{ role: 'user', content: [{ type: 'text', text: 'write to bob@corp.io' }, { type: 'text', text: 'using 5500000000000004' }] }],
    });
    assert.equal(parts.choices[0]?.message.content, 'Echo: write to [REDACTED_EMAIL] using [REDACTED_CARD]');
  });

  test('responses: redacted on the way back (request redaction off, so the echo carries the PII)', async () => {
    const client = await start({ redact_requests: false, card_placeholder: '<card>', email_placeholder: '<email>' });
    const res = await client.chat.completions.create({ model: 'mock/m', messages: [{ role: 'user', content: `reach me at a.b@c.dev or pay ${CARD}` }] });
    assert.equal(res.choices[0]?.message.content, 'Echo: reach me at <email> or pay <card>');
  });

  test('streams: a card number split across chunks is redacted, and no chunk leaks any of it', async () => {
    const client = await start({ redact_requests: false });
    const pieces = await streamed(client, `pay with ${CARD} please, or jane@example.com`);
    assert.equal(pieces.join(''), 'Echo: pay with [REDACTED_CARD] please, or [REDACTED_EMAIL]');
    for (const p of pieces) assert.doesNotMatch(p, /\d{4}|@/, `chunk leaked: ${JSON.stringify(p)}`);
    // The mock sends the number as four chunks ("4111 ", "1111 ", ...): they were held back
    // (sent empty) and the placeholder went out in one piece with the next words.
    assert.ok(pieces.some((p) => p.startsWith('[REDACTED_CARD] please')), JSON.stringify(pieces));
    assert.ok(pieces.filter((p) => p === '').length >= 4, JSON.stringify(pieces));
  });

  test('streams: a number at the very end is flushed, redacted, with the finish chunk', async () => {
    const client = await start({ redact_requests: false });
    const pieces = await streamed(client, `card ${CARD}`);
    assert.equal(pieces.join(''), 'Echo: card [REDACTED_CARD]');
    const innocent = await streamed(client, `order ${NOT_A_CARD} shipped`);
    assert.equal(innocent.join(''), `Echo: order ${NOT_A_CARD} shipped`);
  });
});
