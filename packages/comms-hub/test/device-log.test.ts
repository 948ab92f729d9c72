import { ManualClock } from '@gbhan/clock';
import { MemoryNvStore } from '@gbhan/stack';
import { installCodeLinkKey } from '@gbhan/zigbee';
import { describe, expect, it } from 'vitest';
import { DeviceLog, DeviceLogError } from '../src/index.js';

const CODE = '83fed3407a939723a5c639b26916d505c3b5';
const ESME = '00124b0000000002';

function log(nvm = new MemoryNvStore()) {
  const traces: { type: string; [k: string]: unknown }[] = [];
  const security: { event: string; detail?: unknown }[] = [];
  const dl = new DeviceLog({
    nvm,
    clock: new ManualClock(),
    trace: (e) => traces.push(e),
    securityLog: (event, detail) => security.push({ event, detail }),
    capacity: 2,
  });
  return { dl, traces, security, nvm };
}

describe('DeviceLog', () => {
  it('adds, persists and removes entries; admits only logged devices with their install-code key', () => {
    const { dl, nvm, traces, security } = log();
    expect(dl.admission(ESME)).toBeNull();
    expect(traces.at(-1)).toMatchObject({ type: 'device-log-refused', eui64: ESME });
    dl.add({ eui64: ESME.toUpperCase(), deviceType: 'ESME', installCode: CODE.toUpperCase() });
    expect(dl.admission(ESME)?.linkKey).toEqual(installCodeLinkKey(CODE));
    expect(log(nvm).dl.get(ESME)).toEqual({
      eui64: ESME,
      deviceType: 'ESME',
      installCode: CODE,
      commissioned: false,
    });
    dl.markCommissioned(ESME);
    expect(dl.get(ESME)?.commissioned).toBe(true);
    expect(dl.remove(ESME).deviceType).toBe('ESME');
    expect(dl.admission(ESME)).toBeNull();
    expect(security.map((s) => s.event)).toEqual(['device-log-add', 'device-log-remove']);
  });

  it('refuses bad input with a typed error and leaves the log unchanged', () => {
    const { dl, traces } = log();
    const codeOf = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        expect(e).toBeInstanceOf(DeviceLogError);
        return (e as DeviceLogError).code;
      }
      return 'no error';
    };
    expect(codeOf(() => dl.add({ eui64: 'xyz', deviceType: 'ESME', installCode: CODE }))).toBe(
      'DEVICE_LOG_BAD_EUI64',
    );
    expect(codeOf(() => dl.add({ eui64: ESME, deviceType: 'CHF', installCode: CODE }))).toBe(
      'DEVICE_LOG_BAD_TYPE',
    );
    expect(
      codeOf(() => dl.add({ eui64: ESME, deviceType: 'ESME', installCode: `${CODE.slice(0, -4)}0000` })),
    ).toBe('DEVICE_LOG_BAD_INSTALL_CODE');
    expect(codeOf(() => dl.add({ eui64: ESME, deviceType: 'ESME', installCode: 'zz' }))).toBe(
      'DEVICE_LOG_BAD_INSTALL_CODE',
    );
    expect(codeOf(() => dl.remove(ESME))).toBe('DEVICE_LOG_NOT_FOUND');
    dl.add({ eui64: '00124b0000000003', deviceType: 'GSME', installCode: CODE });
    dl.add({ eui64: '00124b0000000004', deviceType: 'PPMID', installCode: CODE });
    expect(codeOf(() => dl.add({ eui64: ESME, deviceType: 'ESME', installCode: CODE }))).toBe(
      'DEVICE_LOG_FULL',
    );
    expect(dl.entries()).toHaveLength(2);
    expect(traces.filter((t) => t.type === 'device-log-error')).toHaveLength(6);
  });

  it('security-logs application-level refusals', () => {
    const { dl, security } = log();
    expect(dl.check(ESME, 'cbke')).toBe('not-in-device-log');
    expect(security).toEqual([{ event: 'refused-not-in-device-log', detail: { eui64: ESME, what: 'cbke' } }]);
  });
});
