/**
 * `gbhan device esme|gsme ... --optical-port N`: the optical port of a running meter process
 * as a local JSON endpoint (127.0.0.1), for `gbhan optical --port N <command>`. It stands for
 * the optical head held against the meter: local only, never the radio. Each request first
 * wakes the radio (`BusRadio.wake`): the meter's clock - which only the bus's messages move -
 * is brought to the bus's instant (on a real-time bus, the one the wall clock has reached), so
 * challenge lifetimes and lockouts are judged in bus time even when nothing else happened on
 * the bus; the request then runs under the radio's hold, at that one instant.
 *
 * `POST /optical {command, signature?}` -> 200 with the port's response, or 409 with
 * `{ok: false, code, message}` for a refusal; `GET /status` = `{command: 'status'}`; 503
 * `BUS_CLOSED` when the meter has left the bus.
 */
import type { Server } from 'node:http';
import type { BusRadio } from '@gbhan/radio-bus';
import { startJsonEndpoint } from '@gbhan/runtime';
import type { OpticalResponse } from './optical-port.js';
import type { MeterTriage } from './triage.js';

export function startOpticalEndpoint(triage: MeterTriage, radio: BusRadio, port: number): Promise<Server> {
  return startJsonEndpoint(port, async (method, path, body) => {
    let request: { command: string; signature?: string };
    if (method === 'GET' && path === '/status') request = { command: 'status' };
    else if (method === 'POST' && path === '/optical' && body) {
      request = { command: String(body.command ?? '') };
      if (typeof body.signature === 'string') request.signature = body.signature;
    } else return { status: 404, body: { error: { code: 'NOT_FOUND', message: `${method} ${path}` } } };
    let release: () => void;
    try {
      release = await radio.wake();
    } catch (e) {
      return { status: 503, body: { error: { code: 'BUS_CLOSED', message: (e as Error).message } } };
    }
    let r: OpticalResponse;
    try {
      r = triage.request(request);
    } finally {
      release();
    }
    return { status: r.ok ? 200 : 409, body: r };
  });
}
