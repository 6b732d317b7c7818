import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import { z } from 'zod';
import { Reply, notFound } from '../../packages/gateway/src/admin/index.js';
import { createAdminAuth, isLoopback } from '../../packages/gateway/src/admin/auth.js';
import { mockConfig, postJson, startTestGateway, type TestGateway } from '../helpers/gateway.js';

const TOKEN = 'admin-token-for-tests-0123456789';

function fakeReq(remoteAddress: string, authorization?: string): never {
  return { socket: { remoteAddress }, headers: authorization ? { authorization } : {} } as never;
}

describe('admin auth', () => {
  it('without a token, only loopback clients are let in', () => {
    const auth = createAdminAuth(undefined);
    assert.equal(auth.hasToken, false);
    for (const a of ['127.0.0.1', '127.9.8.7', '::1', '::ffff:127.0.0.1']) assert.equal(auth.check(fakeReq(a)), null, a);
    for (const a of ['10.0.0.2', '::ffff:192.168.1.4', 'fe80::1', '']) assert.equal(auth.check(fakeReq(a))?.status, 403, a);
    assert.equal(isLoopback(undefined), false);
  });

  it('with a token, the bearer must match exactly, from any address', () => {
    const auth = createAdminAuth(TOKEN);
    assert.equal(auth.check(fakeReq('10.1.2.3', `Bearer ${TOKEN}`)), null);
    assert.equal(auth.check(fakeReq('127.0.0.1'))?.status, 401, 'loopback needs the token too');
    assert.equal(auth.check(fakeReq('127.0.0.1', `Bearer ${TOKEN}x`))?.status, 401);
    assert.equal(auth.check(fakeReq('127.0.0.1', `Bearer ${TOKEN.slice(0, -1)}`))?.status, 401);
    assert.equal(auth.check(fakeReq('127.0.0.1', `Basic ${TOKEN}`))?.status, 401);
    const denied = auth.check(fakeReq('127.0.0.1', 'Bearer nope-nope'));
    assert.ok(denied && !denied.message.includes('nope-nope'), 'the message does not echo what was sent');
  });
});

describe('admin router over HTTP', () => {
  let gw: TestGateway;
  const auth = { authorization: `Bearer ${TOKEN}` };
  before(async () => {
    gw = await startTestGateway(mockConfig({ admin: { token: 'env.GH_TEST_ADMIN_TOKEN' } }), { env: { ...process.env, GH_TEST_ADMIN_TOKEN: TOKEN } });
    const items = new Map<string, number>();
    gw.admin.router
      .get('/api/things/:id', (req) => {
        if (!items.has(req.params.id!)) throw notFound(`no thing "${req.params.id}"`);
        return { id: req.params.id, n: items.get(req.params.id!) };
      }, { summary: 'one thing', tag: 'test' })
      .get('/api/things/special', () => ({ special: true }))
      .post('/api/things', async (req) => {
        const body = await req.json(z.strictObject({ id: z.string().min(1), n: z.number().int(), tags: z.array(z.string()).optional() }));
        items.set(body.id, body.n);
        return new Reply(201, { id: body.id });
      }, { summary: 'make a thing', tag: 'test', body: { type: 'object' } });
  });
  after(() => gw.close(1000));

  const get = (path: string, headers: Record<string, string> = auth) => fetch(`${gw.url}${path}`, { headers });

  it('needs the bearer token', async () => {
    const none = await get('/api/openapi.json', {});
    assert.equal(none.status, 401);
    assert.match(none.headers.get('www-authenticate') ?? '', /Bearer/);
    assert.equal((await none.json()).error.code, 'unauthorized');
    assert.equal((await get('/api/openapi.json', { authorization: 'Bearer wrong-wrong-wrong-wrong' })).status, 401);
    const ok = await get('/api/openapi.json');
    assert.equal(ok.status, 200);
    const doc = await ok.json();
    assert.equal(doc.openapi, '3.1.0');
    assert.ok(doc.paths['/api/things/{id}'].get, 'registered routes appear in the document');
    assert.ok(doc.paths['/api/things'].post.requestBody);
  });

  it('routes by method and path, literal segments first', async () => {
    const r = await postJson(`${gw.url}/api/things`, { id: 'a', n: 3 }, auth);
    assert.equal(r.status, 201);
    assert.deepEqual(await (await get('/api/things/a')).json(), { id: 'a', n: 3 });
    assert.deepEqual(await (await get('/api/things/special')).json(), { special: true });
    const missing = await get('/api/things/zz');
    assert.equal(missing.status, 404);
    assert.deepEqual(await missing.json(), { error: { code: 'not_found', message: 'no thing "zz"' } });
    const nowhere = await get('/api/nowhere');
    assert.equal(nowhere.status, 404);
    const wrongMethod = await fetch(`${gw.url}/api/things/a`, { method: 'DELETE', headers: auth });
    assert.equal(wrongMethod.status, 405);
    assert.equal(wrongMethod.headers.get('allow'), 'GET');
  });

  it('bad input is a 400 naming each JSON path, and changes nothing', async () => {
    const r = await postJson(`${gw.url}/api/things`, { id: 'b', n: 'three', tags: ['x', 4] }, auth);
    assert.equal(r.status, 400);
    assert.equal(r.json.error.code, 'invalid_request');
    const paths = r.json.error.issues.map((i: { path: string }) => i.path).sort();
    assert.deepEqual(paths, ['n', 'tags[1]']);
    assert.match(r.json.error.message, /n: .*number/);
    assert.equal((await get('/api/things/b')).status, 404);
    const notJson = await postJson(`${gw.url}/api/things`, '{"id":', auth);
    assert.equal(notJson.status, 400);
    assert.match(notJson.json.error.message, /not valid JSON/);
  });

  it('leaves the inference routes as they were', async () => {
    const r = await postJson(`${gw.baseURL}/chat/completions`, { model: 'mock/m', messages: [{ role: 'user', content: 'hi' }] });
    assert.equal(r.status, 200);
    const apiLike = await get('/apiary', {});
    assert.equal(apiLike.status, 404, '/apiary is not under /api');
    assert.equal((await apiLike.json()).error.code, 'GH_ERR_NOT_FOUND');
  });
});

describe('admin without a token', () => {
  it('serves loopback clients and says so at start', async () => {
    const gw = await startTestGateway(mockConfig());
    try {
      assert.ok(gw.logs.some((l) => /no admin\.token configured/.test(String(l.msg))), 'start log says the API is loopback-only');
      assert.equal((await fetch(`${gw.url}/api/openapi.json`)).status, 200);
    } finally {
      await gw.close(1000);
    }
  });

  it('refuses a short token', async () => {
    await assert.rejects(startTestGateway(mockConfig({ admin: { token: 'short' } })), /admin\.token: must be at least 16 characters/);
  });
});
