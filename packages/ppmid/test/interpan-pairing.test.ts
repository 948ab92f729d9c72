/**
 * SECMP0037 on the real stack: a replacement PPMID that is not in the Device Log pairs itself
 * over Inter-PAN (acting as an HHT) - inside the CH's window only with the GB rule (here a
 * 10-minute window: the duration is configurable), at any time with the window removed.
 */
import { MINUTE } from '@gbhan/clock';
import { CommsHub } from '@gbhan/comms-hub';
import { MemoryNvStore } from '@gbhan/stack';
import { realBus } from '@gbhan/testing';
import { appendInstallCodeCrc, toHex } from '@gbhan/zigbee';
import { describe, expect, it } from 'vitest';
import { Ppmid } from '../src/index.js';

const code = (n: number) => toHex(appendInstallCodeCrc(new Uint8Array(16).map((_, i) => n + i)));
const ESME = '00124b0000e5e5e5';

async function home(windowUs: number | 'unlimited', powerOnAt: number) {
  const { bus, radio, ev, crashes } = realBus(2);
  const channels = [{ page: 0, channel: 11 }];
  const CH = '00124b0000c0ffee';
  const PPMID = '00124b0000bbbbbb';
  const hub = new CommsHub({
    radio: await radio(CH, 0),
    nvm: new MemoryNvStore(),
    seed: 'ppmid-ip',
    config: { channels, interPanWindowUs: windowUs },
  });
  const ppmid = new Ppmid({
    radio: await radio(PPMID, 2),
    nvm: new MemoryNvStore(),
    seed: 'ppmid-ip',
    autoPowerOn: false,
    config: {
      chEui64: CH,
      esmeEui64: ESME,
      installCode: code(0x40),
      channels,
      pairOverInterPan: true,
      joinRetryUs: 60 * MINUTE,
    },
  });
  ppmid.node.clock.setTimerAt(powerOnAt, () => ppmid.runtime.start());
  await bus.runUntil(powerOnAt + 3 * MINUTE);
  expect(crashes()).toEqual([]);
  return { hub, ppmid, ev, CH, PPMID };
}

describe('PPMID acting as an HHT (SECMP0037)', () => {
  it('pairs inside the window and joins', async () => {
    const { hub, ppmid, ev, CH, PPMID } = await home(10 * MINUTE, 5 * MINUTE);
    expect(ev(PPMID, 'interpan-pairing')).toMatchObject([{ result: 'paired', ch: CH }]);
    expect(hub.app!.deviceLog.get(PPMID)).toMatchObject({ deviceType: 'PPMID' });
    expect(ppmid.node.joined).toBe(true);
    expect(ev(PPMID, 'cbke-established')).toContainEqual(expect.objectContaining({ peer: CH }));
  });

  it('is refused once the window has closed', async () => {
    const { hub, ppmid, ev, CH, PPMID } = await home(10 * MINUTE, 15 * MINUTE);
    expect(ev(PPMID, 'interpan-pairing')).toMatchObject([{ result: 'cbke-failed' }]);
    expect(
      ev(CH, 'frame-dropped').some((e) => e.reason === 'interpan-window-closed' && e.from === PPMID),
    ).toBe(true);
    expect(hub.app!.deviceLog.has(PPMID)).toBe(false);
    expect(ppmid.node.joined).toBe(false);
  });

  it('pairs at any time without the window (unlimited)', async () => {
    const { ppmid, ev, PPMID } = await home('unlimited', 15 * MINUTE);
    expect(ev(PPMID, 'interpan-pairing')).toMatchObject([{ result: 'paired' }]);
    expect(ppmid.node.joined).toBe(true);
  });
});
