/**
 * The enhanced PPMID's relay (SECMP0038): what it passes on and what it refuses, each traced.
 * It passes bytes unchanged (no key, no check beyond the GBCS tag) and only when enhanced.
 */
import { Dcc, decodeTunnelCommand, deviceGbcsKeys, encodeTunnelCommand, remoteParties } from '@gbhan/gbcs';
import type { TunnelServer } from '@gbhan/runtime';
import { HostDouble } from '@gbhan/testing';
import { describe, expect, it } from 'vitest';
import { ALT_CHANNEL_MAX_OCTETS, AltChannelRelay } from '../src/alt-channel.js';

const CH = '00124b0000c0ffee';
const ESME = '00124b0000e5e5e5';
const esmeKeys = deviceGbcsKeys('1', ESME);
const dcc = new Dcc({
  parties: remoteParties('1'),
  deviceKeys: () => ({ dsPublic: esmeKeys.ds.publicKey, kaPublic: esmeKeys.ka.publicKey }),
});
const command = dcc.command(ESME, { useCase: 'ECS43' }, { nowUnixMs: 1_767_225_600_000 }).bytes;

function relay(o: { enhanced: boolean; tunnel?: boolean; sendOk?: boolean }) {
  const host = new HostDouble('00124b0000bbbbbb');
  const sent: Uint8Array[] = [];
  const out: Uint8Array[] = [];
  const tunnel = {
    tunnelOf: (c: string) => (o.tunnel !== false && c === CH ? 7 : undefined),
    sendToClient: async (_c: string, data: Uint8Array) => {
      sent.push(data);
      return o.sendOk !== false;
    },
  } as unknown as TunnelServer;
  const r = new AltChannelRelay({
    host,
    tunnel,
    ch: () => CH,
    enhanced: o.enhanced,
    onToChannel: (m) => out.push(m),
  });
  const traced = () => host.traces.filter((e) => e.type === 'alt-channel-command');
  return { r, sent, out, traced, host };
}

describe('AltChannelRelay', () => {
  it('passes a GBCS command to the CH unchanged, as a PUT in its tunnel', async () => {
    const t = relay({ enhanced: true });
    expect(await t.r.fromChannel(command)).toBeNull();
    expect(t.sent).toHaveLength(1);
    expect(decodeTunnelCommand(t.sent[0]!)).toEqual({ command: 'PUT', message: command });
    expect(t.traced()).toEqual([
      expect.objectContaining({ forwarded: true, useCase: 'ECS43', target: ESME, octets: command.length }),
    ]);
  });

  it.each([
    ['not-enhanced', { enhanced: false }, command],
    ['not-gbcs', { enhanced: true }, Uint8Array.of(0x01, 0x02, 0x03)],
    ['too-large', { enhanced: true }, new Uint8Array(ALT_CHANNEL_MAX_OCTETS + 1).fill(0xdd)],
    ['no-tunnel', { enhanced: true, tunnel: false }, command],
    ['send-failed', { enhanced: true, sendOk: false }, command],
  ] as const)('refuses %s, traced', async (reason, o, bytes) => {
    const t = relay(o);
    expect(await t.r.fromChannel(bytes)).toBe(reason);
    expect(t.traced()).toEqual([expect.objectContaining({ forwarded: false, reason })]);
    if (reason !== 'send-failed') expect(t.sent).toEqual([]);
  });

  it("hands the CH's GBCS answers to the channel, and drops bad framing with a reason", () => {
    const t = relay({ enhanced: true });
    t.r.fromCh(CH, encodeTunnelCommand({ command: 'PUT', message: command }));
    expect(t.out).toEqual([command]);
    t.r.fromCh(CH, Uint8Array.of(0x03));
    expect(t.host.traces.at(-1)).toEqual(
      expect.objectContaining({ type: 'app-drop', reason: 'bad-gbcs-tunnel' }),
    );
    expect(t.out).toHaveLength(1);
  });
});
