/**
 * PECS01-PECS03: a PPMID's requests on the HAN, traced under their GBCS use cases. PECS03
 * (Local Change Supply, proposed status 2) never overrides the Supplier's remote disable
 * (ECS43) nor a supply cut for want of credit.
 */
import { SECOND } from '@gbhan/clock';
import { Dcc, deviceGbcsKeys, encodeTunnelCommand, remoteParties } from '@gbhan/gbcs';
import { cbkeConfig, HostDouble } from '@gbhan/testing';
import { decodeZclFrame, encodeZclCommand } from '@gbhan/zigbee';
import { describe, expect, it } from 'vitest';
import { EsmeApplication, runGbcsDeviceConfig } from '../src/index.js';

const CH = '00124b0000000001';
const ESME = '00124b0000000002';
const PPMID = '00124b0000000005';
const SEED = 'pecs';

function esme(initialCredit: number) {
  const host = new HostDouble(ESME);
  const app = new EsmeApplication(host, {
    chEui64: CH,
    cbke: cbkeConfig(ESME),
    loadW: 3600,
    prepayment: { initialCredit },
    gbcs: runGbcsDeviceConfig(SEED, ESME),
  });
  host.onZcl((m) => app.handle(m));
  return { host, app };
}

/** PECS03 from the PPMID; the ESME's Default Response status. */
function supplyEnable(host: HostDouble, tsn: number): number {
  host.deliver(
    HostDouble.incoming(
      PPMID,
      0x0702,
      encodeZclCommand({
        cluster: 0x0702,
        command: 'localChangeSupply',
        direction: 'clientToServer',
        payload: { proposedSupplyStatus: 2 },
        tsn,
      }),
    ),
  );
  const [r] = host.take();
  return (decodeZclFrame(r!.frame.zcl, { cluster: 0x0702 }).payload as { statusCode: number }).statusCode;
}

const local = (host: HostDouble) => host.traces.filter((e) => e.type === 'gbcs-local-command');

describe('PECS03 supply enable from the PPMID', () => {
  it('is accepted while the supply is on, refused once credit has run out', () => {
    const { host } = esme(10);
    expect(supplyEnable(host, 1)).toBe(0x00);
    host.clock.advance(3600 * SECOND); // 3.6 kW for an hour at 25p/kWh: 90p > 10p of credit
    expect(supplyEnable(host, 2)).toBe(0x01);
    expect(local(host).map((e) => e.result)).toEqual(['supply-on', 'refused: no credit']);
  });

  it("never overrides the Supplier's remote disable (ECS43)", async () => {
    const { host, app } = esme(1000);
    // The CH opens its tunnel, then the DCC's ECS43 arrives in it.
    const keys = deviceGbcsKeys(SEED, ESME);
    const dcc = new Dcc({
      parties: remoteParties(SEED),
      deviceKeys: () => ({ dsPublic: keys.ds.publicKey, kaPublic: keys.ka.publicKey }),
    });
    const ecs43 = dcc.command(ESME, { useCase: 'ECS43' }, { nowUnixMs: 1_767_225_600_000 }).bytes;
    const served = (app as unknown as { gbcsTunnelData(c: string, d: Uint8Array): Uint8Array | null })
      .gbcsTunnelData;
    expect(served.call(app, CH, encodeTunnelCommand({ command: 'PUT', message: ecs43 }))).not.toBeNull();
    expect(app.loadSwitchOpen).toBe(true);
    host.take();
    expect(supplyEnable(host, 3)).toBe(0x01);
    expect(local(host).map((e) => e.result)).toEqual(['refused: disabled by the supplier']);
  });
});
