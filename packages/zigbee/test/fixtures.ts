/**
 * One of every frame kind this package encodes, as on-air PSDUs, shared by the tshark test,
 * the round-trip tests and the bench. Keys and addresses are fixed test values; the link key
 * is the Annex C install-code key.
 */
import {
  type ApsCommand,
  type ApsPlainFrame,
  type Eui64,
  encodeApsFrame,
  encodeInterPanFrame,
  encodeMacFrame,
  encodeNwkFrame,
  encodeZdo,
  fromHex,
  interPanMacFrame,
  type MacFrame,
  type NwkCommand,
  type NwkDataFrame,
  secureApsFrame,
  secureInterPanFrame,
  secureNwkFrame,
  ZDO_PROFILE_ID,
  type ZdoMessage,
} from '../src/index.js';

export const NWK_KEY = fromHex('01030507090b0d0f00020406080a0c0d');
/** Annex C install-code link key (packages/cbke/test/vectors/cbke-annex-c.json). */
export const LINK_KEY = fromHex('66b6900981e1ee3ca4206b6b861c02bb');
export const TC_EUI: Eui64 = '00124b0001020304';
export const DEV_EUI: Eui64 = '00124b000a0b0c0d';
export const HHT_EUI: Eui64 = '00124b00deadbeef';
export const PAN_ID = 0x1a62;
export const DEV_SHORT = 0x1234;

export interface FixtureFrame {
  name: string;
  psdu: Uint8Array;
  /** tshark field -> expected value (as `-T fields` prints it). */
  expect: Record<string, string>;
  /** Whether tshark must decrypt something in this frame. */
  secured?: boolean;
}

let macSeq = 0;
let nwkSeq = 0;
let apsCounter = 0;
let nwkFc = 1000;
let apsFc = 500;

/** MAC data frame, short addresses, PAN ID compressed (what NWK traffic looks like). */
export function macData(payload: Uint8Array, dst = 0x0000, src = DEV_SHORT): Uint8Array {
  return encodeMacFrame({
    frameType: 'data',
    sequenceNumber: macSeq++ & 0xff,
    framePending: false,
    ackRequest: dst !== 0xffff,
    panIdCompression: true,
    frameVersion: 0,
    destinationPan: PAN_ID,
    destination: dst,
    source: src,
    payload,
  });
}

export function nwkData(payload: Uint8Array, o: Partial<NwkDataFrame> = {}): NwkDataFrame {
  return {
    frameType: 'data',
    security: false,
    protocolVersion: 2,
    discoverRoute: 1,
    endDeviceInitiator: false,
    destination: 0x0000,
    source: DEV_SHORT,
    radius: 30,
    sequenceNumber: nwkSeq++ & 0xff,
    sourceIeee: DEV_EUI,
    payload,
    ...o,
  };
}

/** NWK-secured (network key, ENC-MIC-32, on-air level 0) data frame around `aps`. */
export function securedNwk(
  aps: Uint8Array,
  o: Partial<NwkDataFrame> = {},
  sender: Eui64 = DEV_EUI,
): Uint8Array {
  return secureNwkFrame(nwkData(aps, o), {
    key: NWK_KEY,
    frameCounter: nwkFc++,
    sourceEui64: sender,
    keySequenceNumber: 0,
  });
}

export function apsData(
  clusterId: number,
  profileId: number,
  payload: Uint8Array,
  endpoint = 1,
): ApsPlainFrame {
  return {
    frameType: 'data',
    security: false,
    deliveryMode: 'unicast',
    ackRequest: false,
    destinationEndpoint: endpoint,
    clusterId,
    profileId,
    sourceEndpoint: endpoint,
    counter: apsCounter++ & 0xff,
    payload,
  };
}

export function apsCommand(command: ApsCommand): ApsPlainFrame {
  return {
    frameType: 'command',
    security: false,
    deliveryMode: 'unicast',
    ackRequest: false,
    counter: apsCounter++ & 0xff,
    command,
  };
}

/** ZCL Report Attributes of Metering CurrentSummationDelivered (uint48). */
export const METERING_REPORT = Uint8Array.of(
  0x18,
  0x01,
  0x0a,
  0x00,
  0x00,
  0x25,
  0x40,
  0xe2,
  0x01,
  0x00,
  0x00,
  0x00,
);

/** A typical GB frame: MAC + NWK-secured + APS-secured (TC link key) Metering report. */
export function meteringReportPsdu(nwkFrameCounter: number, apsFrameCounter: number): Uint8Array {
  const aps = secureApsFrame(apsData(0x0702, 0x0109, METERING_REPORT), {
    key: LINK_KEY,
    keyId: 'data',
    frameCounter: apsFrameCounter,
    sourceEui64: DEV_EUI,
  });
  const nwk = secureNwkFrame(nwkData(aps), {
    key: NWK_KEY,
    frameCounter: nwkFrameCounter,
    sourceEui64: DEV_EUI,
    keySequenceNumber: 0,
  });
  return macData(nwk);
}

function macCommandFrame(
  f: Omit<
    Extract<MacFrame, { frameType: 'command' }>,
    'frameType' | 'sequenceNumber' | 'framePending' | 'frameVersion'
  >,
): Uint8Array {
  return encodeMacFrame({
    frameType: 'command',
    sequenceNumber: macSeq++ & 0xff,
    framePending: false,
    frameVersion: 0,
    ...f,
  });
}

function nwkCommand(command: NwkCommand, secure: boolean, o: Partial<NwkDataFrame> = {}): Uint8Array {
  const frame = { ...nwkData(new Uint8Array(0), o), frameType: 'command' as const, command };
  const { payload: _, ...rest } = frame;
  const f = { ...rest, frameType: 'command' as const, security: false as const, command };
  return secure
    ? secureNwkFrame(f, { key: NWK_KEY, frameCounter: nwkFc++, sourceEui64: DEV_EUI, keySequenceNumber: 0 })
    : encodeNwkFrame(f);
}

function zdo(msg: ZdoMessage, secure = true): Uint8Array {
  const { clusterId, payload } = encodeZdo(msg);
  const aps = encodeApsFrame(apsData(clusterId, ZDO_PROFILE_ID, payload, 0));
  return macData(secure ? securedNwk(aps) : encodeNwkFrame(nwkData(aps)));
}

const cap = {
  alternatePanCoordinator: false,
  deviceType: true,
  powerSource: true,
  receiverOnWhenIdle: true,
  securityCapability: false,
  allocateAddress: true,
};

export function allFrames(): FixtureFrame[] {
  macSeq = 0;
  nwkSeq = 0;
  apsCounter = 0;
  const f: FixtureFrame[] = [];
  const add = (name: string, psdu: Uint8Array, expect: Record<string, string>, secured = false) =>
    f.push({ name, psdu, expect, secured });

  // --- MAC (IEEE 802.15.4) ---
  add(
    'mac beacon request',
    macCommandFrame({
      ackRequest: false,
      panIdCompression: false,
      destinationPan: 0xffff,
      destination: 0xffff,
      command: { id: 'beaconRequest' },
    }),
    { 'wpan.cmd': '0x07', 'wpan.dst16': '0xffff' },
  );
  add(
    'mac beacon',
    encodeMacFrame({
      frameType: 'beacon',
      sequenceNumber: 0x42,
      framePending: false,
      ackRequest: false,
      panIdCompression: false,
      frameVersion: 0,
      sourcePan: PAN_ID,
      source: 0x0000,
      superframe: {
        beaconOrder: 15,
        superframeOrder: 15,
        finalCapSlot: 15,
        batteryLifeExtension: false,
        panCoordinator: true,
        associationPermit: true,
      },
      gtsPermit: false,
      gts: [],
      pendingShort: [],
      pendingExtended: [],
      zigbee: {
        protocolId: 0,
        stackProfile: 2,
        protocolVersion: 2,
        routerCapacity: true,
        deviceDepth: 0,
        endDeviceCapacity: true,
        extendedPanId: TC_EUI,
        txOffset: 0xffffff,
        nwkUpdateId: 0,
      },
    }),
    {
      'wpan.frame_type': '0x0000',
      'wpan.assoc_permit': '1',
      'zbee_beacon.ext_panid': '00:12:4b:00:01:02:03:04',
      'zbee_beacon.profile': '0x0002',
    },
  );
  add(
    'mac association request',
    macCommandFrame({
      ackRequest: true,
      panIdCompression: false,
      destinationPan: PAN_ID,
      destination: 0x0000,
      sourcePan: 0xffff,
      source: DEV_EUI,
      command: { id: 'associationRequest', capability: cap },
    }),
    { 'wpan.cmd': '0x01', 'wpan.src64': '00:12:4b:00:0a:0b:0c:0d', 'wpan.cinfo.alloc_addr': '1' },
  );
  add(
    'mac association response',
    macCommandFrame({
      ackRequest: true,
      panIdCompression: true,
      destinationPan: PAN_ID,
      destination: DEV_EUI,
      source: TC_EUI,
      command: { id: 'associationResponse', shortAddress: DEV_SHORT, status: 0 },
    }),
    { 'wpan.cmd': '0x02', 'wpan.assoc.status': '0x00' },
  );
  add(
    'mac data request',
    macCommandFrame({
      ackRequest: true,
      panIdCompression: true,
      destinationPan: PAN_ID,
      destination: 0x0000,
      source: DEV_EUI,
      command: { id: 'dataRequest' },
    }),
    { 'wpan.cmd': '0x04' },
  );
  add(
    'mac disassociation notification',
    macCommandFrame({
      ackRequest: true,
      panIdCompression: true,
      destinationPan: PAN_ID,
      destination: TC_EUI,
      source: DEV_EUI,
      command: { id: 'disassociationNotification', reason: 2 },
    }),
    { 'wpan.cmd': '0x03', 'wpan.disassoc.reason': '0x02' },
  );
  add(
    'mac orphan notification',
    macCommandFrame({
      ackRequest: false,
      panIdCompression: true,
      destinationPan: 0xffff,
      destination: 0xffff,
      source: DEV_EUI,
      command: { id: 'orphanNotification' },
    }),
    { 'wpan.cmd': '0x06' },
  );
  add(
    'mac coordinator realignment',
    encodeMacFrame({
      frameType: 'command',
      sequenceNumber: 9,
      framePending: false,
      ackRequest: true,
      panIdCompression: false,
      frameVersion: 1,
      destinationPan: 0xffff,
      destination: DEV_EUI,
      sourcePan: PAN_ID,
      source: TC_EUI,
      command: {
        id: 'coordinatorRealignment',
        panId: PAN_ID,
        coordinatorShortAddress: 0,
        logicalChannel: 11,
        shortAddress: DEV_SHORT,
        channelPage: 0,
      },
    }),
    { 'wpan.cmd': '0x08', 'wpan.realign.pan': '0x1a62', 'wpan.realign.channel': '11' },
  );
  add(
    'mac ack',
    encodeMacFrame({ frameType: 'ack', sequenceNumber: 9, framePending: true, frameVersion: 0 }),
    { 'wpan.frame_type': '0x0002', 'wpan.seq_no': '9' },
  );

  // --- NWK commands (secured, except the unsecured rejoin) ---
  const cmd = (
    name: string,
    c: NwkCommand,
    id: string,
    extra: Record<string, string> = {},
    secure = true,
    o: Partial<NwkDataFrame> = {},
  ) =>
    add(
      `nwk ${name}${secure ? ' (secured)' : ''}`,
      macData(nwkCommand(c, secure, o), o.destination === 0xfffc ? 0xffff : 0x0000),
      { 'zbee_nwk.cmd.id': id, ...extra },
      secure,
    );
  cmd(
    'route request',
    {
      id: 'routeRequest',
      manyToOne: 0,
      multicast: false,
      routeRequestId: 5,
      destination: 0x0000,
      pathCost: 0,
      destinationIeee: TC_EUI,
    },
    '0x01',
    { 'zbee_nwk.cmd.route.dest': '0x0000' },
    true,
    { destination: 0xfffc, radius: 1 },
  );
  cmd(
    'many-to-one route request',
    {
      id: 'routeRequest',
      manyToOne: 1,
      multicast: false,
      routeRequestId: 6,
      destination: 0xfffc,
      pathCost: 0,
    },
    '0x01',
    {},
    true,
    { destination: 0xfffc, radius: 1 },
  );
  cmd(
    'route reply',
    {
      id: 'routeReply',
      multicast: false,
      routeRequestId: 5,
      originator: DEV_SHORT,
      responder: 0x0000,
      pathCost: 1,
      originatorIeee: DEV_EUI,
      responderIeee: TC_EUI,
    },
    '0x02',
    { 'zbee_nwk.cmd.route.resp': '0x0000' },
  );
  cmd('network status', { id: 'networkStatus', status: 0x0b, destination: 0x5678 }, '0x03', {
    'zbee_nwk.cmd.status': '0x0b',
    'zbee_nwk.cmd.route.dest': '0x5678',
  });
  cmd('leave', { id: 'leave', rejoin: true, request: false, removeChildren: false }, '0x04', {
    'zbee_nwk.cmd.leave.rejoin': '1',
  });
  cmd('route record', { id: 'routeRecord', relays: [0x2222, 0x3333] }, '0x05', {
    'zbee_nwk.cmd.relay_count': '2',
  });
  cmd(
    'rejoin request',
    { id: 'rejoinRequest', capability: cap },
    '0x06',
    { 'zbee_nwk.cmd.cinfo.alloc': '1' },
    false,
    { destinationIeee: TC_EUI },
  );
  cmd('rejoin request', { id: 'rejoinRequest', capability: cap }, '0x06', {});
  cmd('rejoin response', { id: 'rejoinResponse', networkAddress: DEV_SHORT, status: 0 }, '0x07', {
    'zbee_nwk.cmd.rejoin_status': '0x00',
  });
  cmd(
    'link status',
    {
      id: 'linkStatus',
      firstFrame: true,
      lastFrame: true,
      links: [
        { address: 0x0000, incomingCost: 1, outgoingCost: 3 },
        { address: 0x2222, incomingCost: 7, outgoingCost: 0 },
      ],
    },
    '0x08',
    { 'zbee_nwk.cmd.link.count': '2' },
    true,
    { destination: 0xfffc, radius: 1 },
  );
  cmd(
    'end device timeout request',
    { id: 'endDeviceTimeoutRequest', requestedTimeout: 8, endDeviceConfiguration: 0 },
    '0x0b',
    { 'zbee_nwk.cmd.ed_tmo_req': '8' },
  );
  cmd(
    'end device timeout response',
    {
      id: 'endDeviceTimeoutResponse',
      status: 0,
      macDataPollKeepalive: true,
      endDeviceTimeoutRequestKeepalive: true,
      powerNegotiationSupport: false,
    },
    '0x0c',
    { 'zbee_nwk.cmd.ed_tmo_rsp_status': '0' },
  );

  // --- NWK data + APS data / ack ---
  add(
    'nwk data + aps data (unsecured)',
    macData(encodeNwkFrame(nwkData(encodeApsFrame(apsData(0x0702, 0x0109, METERING_REPORT))))),
    { 'zbee_aps.cluster': '0x0702', 'zbee_aps.profile': '0x0109', 'zbee_zcl.cmd.id': '0x0a' },
  );
  add(
    'nwk data + aps data (nwk secured)',
    macData(securedNwk(encodeApsFrame(apsData(0x0702, 0x0109, METERING_REPORT)))),
    { 'zbee_aps.cluster': '0x0702', 'zbee_zcl.cmd.id': '0x0a' },
    true,
  );
  add(
    'nwk + aps secured metering report',
    meteringReportPsdu(nwkFc++, apsFc++),
    { 'zbee_aps.cluster': '0x0702', 'zbee_zcl.cmd.id': '0x0a' },
    true,
  );
  add(
    'aps group data (nwk secured)',
    macData(
      securedNwk(
        encodeApsFrame({
          frameType: 'data',
          security: false,
          deliveryMode: 'group',
          ackRequest: false,
          groupAddress: 0x0001,
          clusterId: 0x0703,
          profileId: 0x0109,
          sourceEndpoint: 1,
          counter: 77,
          payload: Uint8Array.of(0x11, 0x02, 0x00),
        }),
        { destination: 0xfffd, multicastControl: undefined },
      ),
      0xffff,
    ),
    { 'zbee_aps.group': '0x0001' },
    true,
  );
  add(
    'aps fragmented data block 1',
    macData(
      securedNwk(
        encodeApsFrame({
          ...(apsData(0x0704, 0x0109, Uint8Array.of(1, 2, 3, 4)) as Extract<
            ApsPlainFrame,
            { frameType: 'data' }
          >),
          ackRequest: true,
          extendedHeader: { fragmentation: 2, blockNumber: 1 },
        }),
      ),
    ),
    { 'zbee_aps.fragmentation': '0x02', 'zbee_aps.block': '1' },
    true,
  );
  add(
    'aps ack (data format)',
    macData(
      securedNwk(
        encodeApsFrame({
          frameType: 'ack',
          security: false,
          deliveryMode: 'unicast',
          ackRequest: false,
          ackFormat: 'data',
          destinationEndpoint: 1,
          clusterId: 0x0702,
          profileId: 0x0109,
          sourceEndpoint: 1,
          counter: 3,
        }),
      ),
    ),
    { 'zbee_aps.type': '0x02', 'zbee_aps.cluster': '0x0702' },
    true,
  );
  add(
    'aps ack (command format, aps secured)',
    macData(
      securedNwk(
        secureApsFrame(
          {
            frameType: 'ack',
            security: false,
            deliveryMode: 'unicast',
            ackRequest: false,
            ackFormat: 'command',
            counter: 4,
          },
          { key: LINK_KEY, keyId: 'data', frameCounter: apsFc++, sourceEui64: DEV_EUI },
        ),
      ),
    ),
    { 'zbee_aps.type': '0x02', 'zbee_aps.ack_format': '1' },
    true,
  );

  // --- APS commands ---
  const tcSends = (c: ApsCommand, keyId: 'data' | 'keyTransport' | 'keyLoad' | null, nwkSecure: boolean) => {
    const plain = apsCommand(c);
    const aps = keyId
      ? secureApsFrame(plain, { key: LINK_KEY, keyId, frameCounter: apsFc++, sourceEui64: TC_EUI })
      : encodeApsFrame(plain);
    const nwkOpts: Partial<NwkDataFrame> = {
      destination: DEV_SHORT,
      source: 0x0000,
      sourceIeee: TC_EUI,
      destinationIeee: DEV_EUI,
    };
    const nwk = nwkSecure ? securedNwk(aps, nwkOpts, TC_EUI) : encodeNwkFrame(nwkData(aps, nwkOpts));
    return macData(nwk, DEV_SHORT, 0x0000);
  };
  add(
    'aps transport key (network key, key-transport key)',
    tcSends(
      {
        id: 'transportKey',
        keyType: 'network',
        key: NWK_KEY,
        sequenceNumber: 0,
        destination: DEV_EUI,
        source: TC_EUI,
      },
      'keyTransport',
      false,
    ),
    {
      'zbee_aps.cmd.id': '0x05',
      'zbee_aps.cmd.key': '01030507090b0d0f00020406080a0c0d',
      'zbee.sec.key_id': '0x02',
    },
    true,
  );
  add(
    'aps transport key (tc link key, key-load key)',
    tcSends(
      {
        id: 'transportKey',
        keyType: 'trustCenterLink',
        key: fromHex('000102030405060708090a0b0c0d0e0f'),
        destination: DEV_EUI,
        source: TC_EUI,
      },
      'keyLoad',
      true,
    ),
    { 'zbee_aps.cmd.id': '0x05', 'zbee_aps.cmd.key_type': '0x04', 'zbee.sec.key_id': '0x03' },
    true,
  );
  add(
    'aps transport key (application link key)',
    tcSends(
      {
        id: 'transportKey',
        keyType: 'applicationLink',
        key: fromHex('0f0e0d0c0b0a09080706050403020100'),
        partner: HHT_EUI,
        initiator: true,
      },
      'keyTransport',
      true,
    ),
    {
      'zbee_aps.cmd.id': '0x05',
      'zbee_aps.cmd.key_type': '0x03',
      'zbee_aps.cmd.partner': '00:12:4b:00:de:ad:be:ef',
    },
    true,
  );
  add(
    'aps update device',
    tcSends({ id: 'updateDevice', device: HHT_EUI, shortAddress: 0x4444, status: 1 }, 'data', true),
    {
      'zbee_aps.cmd.id': '0x06',
      'zbee_aps.cmd.device': '00:12:4b:00:de:ad:be:ef',
      'zbee_aps.cmd.addr': '0x4444',
    },
    true,
  );
  add(
    'aps remove device',
    tcSends({ id: 'removeDevice', target: HHT_EUI }, 'data', true),
    { 'zbee_aps.cmd.id': '0x07' },
    true,
  );
  add(
    'aps request key (tc link key)',
    tcSends({ id: 'requestKey', keyType: 'trustCenterLink' }, 'data', true),
    { 'zbee_aps.cmd.id': '0x08', 'zbee_aps.cmd.key_type': '0x04' },
    true,
  );
  add(
    'aps request key (app link key)',
    tcSends({ id: 'requestKey', keyType: 'applicationLink', partner: HHT_EUI }, 'data', true),
    { 'zbee_aps.cmd.id': '0x08', 'zbee_aps.cmd.partner': '00:12:4b:00:de:ad:be:ef' },
    true,
  );
  add(
    'aps switch key',
    tcSends({ id: 'switchKey', sequenceNumber: 1 }, null, true),
    { 'zbee_aps.cmd.id': '0x09', 'zbee_aps.cmd.seqno': '1' },
    true,
  );
  add(
    'aps verify key',
    tcSends(
      {
        id: 'verifyKey',
        keyType: 4,
        source: DEV_EUI,
        initiatorVerifyKeyHash: fromHex('00112233445566778899aabbccddeeff'),
      },
      null,
      true,
    ),
    { 'zbee_aps.cmd.id': '0x0f', 'zbee_aps.cmd.key_type': '0x04' },
    true,
  );
  add(
    'aps confirm key',
    tcSends({ id: 'confirmKey', status: 0, keyType: 4, destination: DEV_EUI }, 'data', true),
    { 'zbee_aps.cmd.id': '0x10', 'zbee_aps.cmd.status': '0x00' },
    true,
  );
  add('aps switch key (unsecured)', tcSends({ id: 'switchKey', sequenceNumber: 2 }, null, false), {
    'zbee_aps.cmd.id': '0x09',
  });

  // --- Inter-PAN ---
  const price = Uint8Array.of(0x01, 0x10, 0x00, 0x00); // ZCL Price GetCurrentPrice
  const ip = (dst: number | Eui64, payload: Uint8Array) =>
    encodeMacFrame(
      interPanMacFrame({
        sequenceNumber: macSeq++ & 0xff,
        destinationPan: dst === 0xffff ? 0xffff : PAN_ID,
        destination: dst,
        sourcePan: 0xabcd,
        source: HHT_EUI,
        payload,
      }),
    );
  add(
    'inter-pan unicast',
    ip(
      TC_EUI,
      encodeInterPanFrame({
        deliveryMode: 'unicast',
        clusterId: 0x0700,
        profileId: 0x0109,
        security: false,
        payload: price,
      }),
    ),
    {
      'zbee_nwk.frame_type': '0x0003',
      'zbee_aps.cluster': '0x0700',
      'wpan.dst64': '00:12:4b:00:01:02:03:04',
    },
  );
  add(
    'inter-pan broadcast',
    ip(
      0xffff,
      encodeInterPanFrame({
        deliveryMode: 'broadcast',
        clusterId: 0x0700,
        profileId: 0x0109,
        security: false,
        payload: price,
      }),
    ),
    { 'zbee_aps.cluster': '0x0700', 'wpan.dst16': '0xffff' },
  );
  add(
    'inter-pan group',
    ip(
      0xffff,
      encodeInterPanFrame({
        deliveryMode: 'group',
        groupAddress: 0x0102,
        clusterId: 0x0703,
        profileId: 0x0109,
        security: false,
        payload: Uint8Array.of(0x11, 0x02, 0x00),
      }),
    ),
    { 'zbee_aps.group': '0x0102', 'zbee_aps.cluster': '0x0703' },
  );
  add(
    'inter-pan unicast (aps secured)',
    ip(
      TC_EUI,
      secureInterPanFrame(
        { deliveryMode: 'unicast', clusterId: 0x0700, profileId: 0x0109, security: false, payload: price },
        { key: LINK_KEY, frameCounter: 1, sourceEui64: HHT_EUI },
      ),
    ),
    { 'zbee_aps.cluster': '0x0700', 'zbee_zcl_se.price.cmd.srv_rx.id': '0x00' },
    true,
  );

  // --- ZDO ---
  const tsn = (() => {
    let n = 0;
    return () => n++;
  })();
  add(
    'zdo device announce',
    zdo({
      transactionSequenceNumber: tsn(),
      command: 'deviceAnnce',
      nwkAddress: DEV_SHORT,
      ieeeAddress: DEV_EUI,
      capability: cap,
    }),
    { 'zbee_aps.zdp_cluster': '0x0013', 'zbee_zdp.ext_addr': '00:12:4b:00:0a:0b:0c:0d' },
    true,
  );
  add(
    'zdo nwk addr req',
    zdo({
      transactionSequenceNumber: tsn(),
      command: 'nwkAddrReq',
      ieeeAddress: TC_EUI,
      requestType: 0,
      startIndex: 0,
    }),
    { 'zbee_aps.zdp_cluster': '0x0000' },
    true,
  );
  add(
    'zdo nwk addr rsp',
    zdo({
      transactionSequenceNumber: tsn(),
      command: 'nwkAddrRsp',
      status: 0,
      ieeeAddress: DEV_EUI,
      nwkAddress: DEV_SHORT,
    }),
    { 'zbee_aps.zdp_cluster': '0x8000', 'zbee_zdp.nwk_addr': '0x1234' },
    true,
  );
  add(
    'zdo ieee addr req',
    zdo({
      transactionSequenceNumber: tsn(),
      command: 'ieeeAddrReq',
      nwkAddressOfInterest: DEV_SHORT,
      requestType: 1,
      startIndex: 0,
    }),
    { 'zbee_aps.zdp_cluster': '0x0001' },
    true,
  );
  add(
    'zdo ieee addr rsp (extended)',
    zdo({
      transactionSequenceNumber: tsn(),
      command: 'ieeeAddrRsp',
      status: 0,
      ieeeAddress: TC_EUI,
      nwkAddress: 0,
      associatedDevices: { total: 2, startIndex: 0, addresses: [DEV_SHORT, 0x2222] },
    }),
    { 'zbee_aps.zdp_cluster': '0x8001', 'zbee_zdp.assoc_device_count': '2' },
    true,
  );
  add(
    'zdo node desc req',
    zdo({ transactionSequenceNumber: tsn(), command: 'nodeDescReq', nwkAddressOfInterest: DEV_SHORT }),
    { 'zbee_aps.zdp_cluster': '0x0002' },
    true,
  );
  add(
    'zdo node desc rsp',
    zdo({
      transactionSequenceNumber: tsn(),
      command: 'nodeDescRsp',
      status: 0,
      nwkAddressOfInterest: DEV_SHORT,
      nodeDescriptor: {
        logicalType: 1,
        complexDescriptorAvailable: false,
        userDescriptorAvailable: false,
        apsFlags: 0,
        frequencyBand: 0x08,
        macCapability: { ...cap, allocateAddress: true },
        manufacturerCode: 0x1234,
        maximumBufferSize: 82,
        maximumIncomingTransferSize: 1500,
        serverMask: 0x2c00,
        maximumOutgoingTransferSize: 1500,
        descriptorCapability: 0,
      },
    }),
    { 'zbee_aps.zdp_cluster': '0x8002', 'zbee_zdp.node.manufacturer': '0x1234' },
    true,
  );
  add(
    'zdo simple desc req',
    zdo({
      transactionSequenceNumber: tsn(),
      command: 'simpleDescReq',
      nwkAddressOfInterest: DEV_SHORT,
      endpoint: 1,
    }),
    { 'zbee_aps.zdp_cluster': '0x0004', 'zbee_zdp.endpoint': '1' },
    true,
  );
  add(
    'zdo simple desc rsp',
    zdo({
      transactionSequenceNumber: tsn(),
      command: 'simpleDescRsp',
      status: 0,
      nwkAddressOfInterest: DEV_SHORT,
      simpleDescriptor: {
        endpoint: 1,
        profileId: 0x0109,
        deviceId: 0x0501,
        deviceVersion: 0,
        inputClusters: [0x0000, 0x0702, 0x0800],
        outputClusters: [0x0700],
      },
    }),
    { 'zbee_aps.zdp_cluster': '0x8004', 'zbee_zdp.in_count': '3', 'zbee_zdp.out_count': '1' },
    true,
  );
  add(
    'zdo active ep req',
    zdo({ transactionSequenceNumber: tsn(), command: 'activeEpReq', nwkAddressOfInterest: DEV_SHORT }),
    { 'zbee_aps.zdp_cluster': '0x0005' },
    true,
  );
  add(
    'zdo active ep rsp',
    zdo({
      transactionSequenceNumber: tsn(),
      command: 'activeEpRsp',
      status: 0,
      nwkAddressOfInterest: DEV_SHORT,
      endpoints: [1, 2],
    }),
    { 'zbee_aps.zdp_cluster': '0x8005', 'zbee_zdp.ep_count': '2' },
    true,
  );
  add(
    'zdo mgmt permit join req',
    zdo({
      transactionSequenceNumber: tsn(),
      command: 'mgmtPermitJoiningReq',
      permitDuration: 254,
      tcSignificance: 1,
    }),
    { 'zbee_aps.zdp_cluster': '0x0036' },
    true,
  );
  add(
    'zdo mgmt permit join rsp',
    zdo({ transactionSequenceNumber: tsn(), command: 'mgmtPermitJoiningRsp', status: 0 }),
    { 'zbee_aps.zdp_cluster': '0x8036', 'zbee_zdp.status': '0' },
    true,
  );
  add(
    'zdo mgmt leave req',
    zdo({
      transactionSequenceNumber: tsn(),
      command: 'mgmtLeaveReq',
      deviceAddress: DEV_EUI,
      removeChildren: false,
      rejoin: true,
    }),
    { 'zbee_aps.zdp_cluster': '0x0034' },
    true,
  );
  add(
    'zdo mgmt leave rsp',
    zdo({ transactionSequenceNumber: tsn(), command: 'mgmtLeaveRsp', status: 0 }),
    { 'zbee_aps.zdp_cluster': '0x8034' },
    true,
  );
  add(
    'zdo mgmt lqi req',
    zdo({ transactionSequenceNumber: tsn(), command: 'mgmtLqiReq', startIndex: 0 }),
    { 'zbee_aps.zdp_cluster': '0x0031' },
    true,
  );
  add(
    'zdo mgmt lqi rsp',
    zdo({
      transactionSequenceNumber: tsn(),
      command: 'mgmtLqiRsp',
      status: 0,
      neighborTableEntries: 1,
      startIndex: 0,
      neighbors: [
        {
          extendedPanId: TC_EUI,
          extendedAddress: TC_EUI,
          networkAddress: 0,
          deviceType: 0,
          rxOnWhenIdle: 1,
          relationship: 0,
          permitJoining: 2,
          depth: 0,
          lqi: 200,
        },
      ],
    }),
    { 'zbee_aps.zdp_cluster': '0x8031', 'zbee_zdp.table_count': '1' },
    true,
  );
  add(
    'zdo device announce (unsecured)',
    zdo(
      {
        transactionSequenceNumber: tsn(),
        command: 'deviceAnnce',
        nwkAddress: DEV_SHORT,
        ieeeAddress: DEV_EUI,
        capability: cap,
      },
      false,
    ),
    { 'zbee_aps.zdp_cluster': '0x0013' },
  );
  return f;
}
