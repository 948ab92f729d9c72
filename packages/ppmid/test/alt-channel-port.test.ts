/** The enhanced PPMID's local endpoint (`--alt-channel-port`): every bad request gets a typed answer. */
import { describe, expect, it } from 'vitest';
import { ALT_CHANNEL_MAX_OCTETS } from '../src/alt-channel.js';
import { type AltChannelTarget, altChannelHandler } from '../src/alt-channel-port.js';

const HEADER = { useCase: 'CS01a', counter: '1', target: '00124b0000000001' };

function setup(submit?: AltChannelTarget['submit']) {
  let now = 0;
  const submitted: Uint8Array[] = [];
  const h = altChannelHandler({
    target: () => ({
      submit:
        submit ??
        ((b) => {
          submitted.push(b);
          return { sent: Promise.resolve(null), header: HEADER };
        }),
    }),
    wake: async () => () => {},
    nowMs: () => now,
  });
  return { h, submitted, at: (ms: number) => (now = ms) };
}

describe('the alternative channel endpoint', () => {
  it('passes a good command on (202)', async () => {
    const s = setup();
    expect(await s.h.handle('POST', '/gbcs', { hex: 'dd00ff' })).toMatchObject({
      status: 202,
      body: { accepted: true, useCase: 'CS01a' },
    });
    expect(s.submitted).toEqual([new Uint8Array([0xdd, 0x00, 0xff])]);
  });

  it('garbage is 400 BAD_HEX, oversize 413 TOO_LARGE, other paths 404', async () => {
    const s = setup();
    for (const body of [{}, { hex: 'xyz' }, { hex: 'abc' }, { hex: 42 }])
      expect(await s.h.handle('POST', '/gbcs', body)).toMatchObject({
        status: 400,
        body: { error: { code: 'BAD_HEX' } },
      });
    expect(await s.h.handle('POST', '/gbcs', { hex: 'dd'.repeat(ALT_CHANNEL_MAX_OCTETS + 1) })).toMatchObject(
      {
        status: 413,
        body: { error: { code: 'TOO_LARGE' } },
      },
    );
    expect(await s.h.handle('GET', '/nope', null)).toMatchObject({ status: 404 });
    expect(s.submitted).toEqual([]);
  });

  it('a refusal by the relay is 409 REFUSED with the reason', async () => {
    const s = setup(() => ({ refusal: 'not-gbcs', header: { useCase: null, counter: null, target: null } }));
    expect(await s.h.handle('POST', '/gbcs', { hex: '0102' })).toMatchObject({
      status: 409,
      body: { error: { code: 'REFUSED', reason: 'not-gbcs' } },
    });
  });

  it('more than 10 requests in a second are 429 RATE_LIMITED, until the window moves on', async () => {
    const s = setup();
    for (let i = 0; i < 10; i++) expect((await s.h.handle('POST', '/gbcs', { hex: 'dd' })).status).toBe(202);
    expect(await s.h.handle('POST', '/gbcs', { hex: 'dd' })).toMatchObject({
      status: 429,
      body: { error: { code: 'RATE_LIMITED', retryAfterMs: 1000 } },
    });
    s.at(1000);
    expect((await s.h.handle('POST', '/gbcs', { hex: 'dd' })).status).toBe(202);
  });

  it("keeps the CH's messages for GET /gbcs/responses, counting what it had to drop", async () => {
    const s = setup();
    for (let i = 0; i < 70; i++) s.h.toClient(new Uint8Array([i]));
    const r = await s.h.handle('GET', '/gbcs/responses', null);
    expect(r.body).toMatchObject({ dropped: 6 });
    expect((r.body as { messages: unknown[] }).messages).toHaveLength(64);
  });
});
