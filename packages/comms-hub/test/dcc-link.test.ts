/** The CH's DCC link: JSON requests from a head-end, answered with typed replies (never dropped). */
import { ManualClock } from '@gbhan/clock';
import { describe, expect, it } from 'vitest';
import { handleDccLinkRequest } from '../src/dcc-link.js';
import { WanSide } from '../src/wan.js';

function setup() {
  const events: Record<string, unknown>[] = [];
  const host = { trace: (e: Record<string, unknown>) => events.push(e), clock: new ManualClock() };
  const wan = new WanSide({
    host: host as never,
    deviceLog: { get: () => undefined } as never,
    tunnels: {} as never,
    gpf: {} as never,
    onDeviceRemoved: () => {},
  });
  const ask = (body: string | object, w: WanSide | null = wan) =>
    JSON.parse(
      new TextDecoder().decode(
        handleDccLinkRequest(
          host as never,
          w,
          '00124b0000000e0d',
          new TextEncoder().encode(typeof body === 'string' ? body : JSON.stringify(body)),
        ),
      ),
    ) as Record<string, unknown>;
  return { events, wan, ask };
}

describe('the DCC link', () => {
  it('bad JSON gets a typed error reply, traced', () => {
    const s = setup();
    expect(s.ask('{"requestId": 1, "request": {')).toMatchObject({
      requestId: null,
      ok: false,
      code: 'DCC_BAD_JSON',
    });
    expect(s.events).toEqual([expect.objectContaining({ type: 'dcc-link-refused', code: 'DCC_BAD_JSON' })]);
  });

  it('a request without requestId or request object is DCC_BAD_REQUEST', () => {
    const s = setup();
    expect(s.ask([1, 2])).toMatchObject({ ok: false, code: 'DCC_BAD_REQUEST' });
    expect(s.ask({ request: { kind: 'top-up' } })).toMatchObject({ ok: false, code: 'DCC_BAD_REQUEST' });
    expect(s.ask({ requestId: 'r1', request: 'top-up' })).toMatchObject({
      requestId: 'r1',
      ok: false,
      code: 'DCC_BAD_REQUEST',
    });
  });

  it('an unknown request is refused by the WAN side (WAN_BAD_COMMAND)', () => {
    const s = setup();
    expect(s.ask({ requestId: 'r2', request: { kind: 'make-tea' } })).toMatchObject({
      requestId: 'r2',
      ok: false,
      code: 'WAN_BAD_COMMAND',
    });
    expect(s.ask({ requestId: 'r3', request: { kind: 'make-tea' }, build: true })).toMatchObject({
      ok: false,
      code: 'WAN_BAD_COMMAND',
    });
    expect(s.events.filter((e) => e.type === 'wan-command-failed')).toHaveLength(2);
  });

  it('with the WAN down an execute is WAN_DOWN, and an unknown meter cannot be built', () => {
    const s = setup();
    s.wan.setUp(false);
    expect(
      s.ask({ requestId: 7, request: { action: 'supply', target: '00124b0000000001', state: 'enable' } }),
    ).toMatchObject({
      requestId: 7,
      ok: false,
      code: 'WAN_DOWN',
    });
    expect(
      s.ask({
        requestId: 8,
        request: { kind: 'supply', target: '00124b0000000001', state: 'enable' },
        build: true,
      }),
    ).toMatchObject({ ok: false, code: 'WAN_UNKNOWN_DEVICE' });
  });

  it('a powered-off CH answers DCC_CH_OFF', () => {
    const s = setup();
    expect(s.ask({ requestId: 'r', request: { kind: 'top-up' } }, null)).toMatchObject({
      ok: false,
      code: 'DCC_CH_OFF',
    });
  });
});
