/**
 * fast-check properties: random valid frames of every kind round-trip exactly; random and
 * mutated bytes fed to every decoder either decode (and then re-encode to the same bytes)
 * or throw ZigbeeDecodeError, never anything else.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type ApsCommand,
  type ApsPlainFrame,
  type CapabilityInformation,
  decodeApsFrame,
  decodeInterPanFrame,
  decodeMacFrame,
  decodeNwkFrame,
  decodeZdo,
  encodeApsFrame,
  encodeInterPanFrame,
  encodeMacFrame,
  encodeNwkFrame,
  encodeZdo,
  type InterPanPlainFrame,
  installCodeLinkKey,
  type MacFrame,
  type NwkCommand,
  type NwkPlainFrame,
  secureApsFrame,
  secureInterPanFrame,
  secureNwkFrame,
  toHex,
  unsecureApsFrame,
  unsecureInterPanFrame,
  unsecureNwkFrame,
  ZdoClusterId,
  type ZdoMessage,
  ZigbeeDecodeError,
} from '../src/index.js';
import { allFrames, DEV_EUI, LINK_KEY, NWK_KEY } from './fixtures.js';

const RUNS = { numRuns: 300 };
const u8 = fc.integer({ min: 0, max: 0xff });
const u16 = fc.integer({ min: 0, max: 0xffff });
const u32 = fc.integer({ min: 0, max: 0xffffffff });
const eui = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }).map((b) => b.toString(16).padStart(16, '0'));
const bytes = (max: number) => fc.uint8Array({ maxLength: max });
const opt = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: undefined });
const key16 = fc.uint8Array({ minLength: 16, maxLength: 16 });
const cap: fc.Arbitrary<CapabilityInformation> = fc.record({
  alternatePanCoordinator: fc.boolean(),
  deviceType: fc.boolean(),
  powerSource: fc.boolean(),
  receiverOnWhenIdle: fc.boolean(),
  securityCapability: fc.boolean(),
  allocateAddress: fc.boolean(),
});
const addr = fc.oneof(u16, eui);

// ---------- MAC ----------
const macHeader = fc
  .record({
    sequenceNumber: u8,
    framePending: fc.boolean(),
    ackRequest: fc.boolean(),
    frameVersion: fc.constantFrom(0 as const, 1 as const),
    destination: opt(addr),
    source: opt(addr),
    dstPan: u16,
    srcPan: u16,
    compress: fc.boolean(),
  })
  .map(({ dstPan, srcPan, compress, ...h }) => {
    const panIdCompression = compress && h.destination !== undefined && h.source !== undefined;
    return {
      ...h,
      panIdCompression,
      destinationPan: h.destination !== undefined ? dstPan : undefined,
      sourcePan: h.source !== undefined && !panIdCompression ? srcPan : undefined,
    };
  });
const macCommand = fc.oneof(
  cap.map((capability) => ({ id: 'associationRequest' as const, capability })),
  fc.record({ id: fc.constant('associationResponse' as const), shortAddress: u16, status: u8 }),
  fc.record({ id: fc.constant('disassociationNotification' as const), reason: u8 }),
  fc.constantFrom(
    { id: 'dataRequest' as const },
    { id: 'panIdConflictNotification' as const },
    { id: 'orphanNotification' as const },
    { id: 'beaconRequest' as const },
  ),
  fc.record({
    id: fc.constant('coordinatorRealignment' as const),
    panId: u16,
    coordinatorShortAddress: u16,
    logicalChannel: u8,
    shortAddress: u16,
    channelPage: u8,
  }),
);
const macFrame: fc.Arbitrary<MacFrame> = fc.oneof(
  fc
    .record({
      sequenceNumber: u8,
      framePending: fc.boolean(),
      frameVersion: fc.constantFrom(0 as const, 1 as const),
    })
    .map((a) => ({ frameType: 'ack' as const, ...a })),
  fc.tuple(macHeader, bytes(80)).map(([h, payload]) => ({ frameType: 'data' as const, ...h, payload })),
  fc.tuple(macHeader, macCommand).map(([h, c]) => {
    const command =
      c.id === 'coordinatorRealignment' && h.frameVersion === 0 ? { ...c, channelPage: undefined } : c;
    return { frameType: 'command' as const, ...h, command };
  }),
  fc
    .record({
      sequenceNumber: u8,
      framePending: fc.boolean(),
      ackRequest: fc.boolean(),
      frameVersion: fc.constantFrom(0 as const, 1 as const),
      sourcePan: u16,
      source: addr,
      superframe: fc.record({
        beaconOrder: fc.integer({ min: 0, max: 15 }),
        superframeOrder: fc.integer({ min: 0, max: 15 }),
        finalCapSlot: fc.integer({ min: 0, max: 15 }),
        batteryLifeExtension: fc.boolean(),
        panCoordinator: fc.boolean(),
        associationPermit: fc.boolean(),
      }),
      gtsPermit: fc.boolean(),
      gts: fc.array(
        fc.record({
          shortAddress: u16,
          startingSlot: fc.integer({ min: 0, max: 15 }),
          length: fc.integer({ min: 0, max: 15 }),
          receiveOnly: fc.boolean(),
        }),
        { maxLength: 3 },
      ),
      pendingShort: fc.array(u16, { maxLength: 3 }),
      pendingExtended: fc.array(eui, { maxLength: 2 }),
      zigbee: opt(
        fc.record({
          protocolId: fc.constant(0),
          stackProfile: fc.integer({ min: 0, max: 15 }),
          protocolVersion: fc.integer({ min: 0, max: 15 }),
          routerCapacity: fc.boolean(),
          deviceDepth: fc.integer({ min: 0, max: 15 }),
          endDeviceCapacity: fc.boolean(),
          extendedPanId: eui,
          txOffset: fc.integer({ min: 0, max: 0xffffff }),
          nwkUpdateId: u8,
        }),
      ),
    })
    .map((b) => ({ frameType: 'beacon' as const, panIdCompression: false, ...b })),
);

// ---------- NWK ----------
const nwkCommand: fc.Arbitrary<NwkCommand> = fc.oneof(
  fc.record({
    id: fc.constant('routeRequest' as const),
    manyToOne: fc.integer({ min: 0, max: 2 }),
    multicast: fc.boolean(),
    routeRequestId: u8,
    destination: u16,
    pathCost: u8,
    destinationIeee: opt(eui),
  }),
  fc.record({
    id: fc.constant('routeReply' as const),
    multicast: fc.boolean(),
    routeRequestId: u8,
    originator: u16,
    responder: u16,
    pathCost: u8,
    originatorIeee: opt(eui),
    responderIeee: opt(eui),
  }),
  fc.record({ id: fc.constant('networkStatus' as const), status: u8, destination: u16 }),
  fc.record({
    id: fc.constant('leave' as const),
    rejoin: fc.boolean(),
    request: fc.boolean(),
    removeChildren: fc.boolean(),
  }),
  fc.record({ id: fc.constant('routeRecord' as const), relays: fc.array(u16, { maxLength: 10 }) }),
  cap.map((capability) => ({ id: 'rejoinRequest' as const, capability })),
  fc.record({ id: fc.constant('rejoinResponse' as const), networkAddress: u16, status: u8 }),
  fc.record({
    id: fc.constant('linkStatus' as const),
    firstFrame: fc.boolean(),
    lastFrame: fc.boolean(),
    links: fc.array(
      fc.record({
        address: u16,
        incomingCost: fc.integer({ min: 0, max: 7 }),
        outgoingCost: fc.integer({ min: 0, max: 7 }),
      }),
      { maxLength: 20 },
    ),
  }),
  fc.record({
    id: fc.constant('endDeviceTimeoutRequest' as const),
    requestedTimeout: fc.integer({ min: 0, max: 14 }),
    endDeviceConfiguration: u8,
  }),
  fc.record({
    id: fc.constant('endDeviceTimeoutResponse' as const),
    status: u8,
    macDataPollKeepalive: fc.boolean(),
    endDeviceTimeoutRequestKeepalive: fc.boolean(),
    powerNegotiationSupport: fc.boolean(),
  }),
);
const nwkHeader = fc.record({
  protocolVersion: fc.constant(2),
  discoverRoute: fc.integer({ min: 0, max: 3 }),
  endDeviceInitiator: fc.boolean(),
  destination: u16,
  source: u16,
  radius: u8,
  sequenceNumber: u8,
  destinationIeee: opt(eui),
  sourceIeee: opt(eui),
  multicastControl: opt(
    fc.record({
      mode: fc.integer({ min: 0, max: 3 }),
      nonmemberRadius: fc.integer({ min: 0, max: 7 }),
      maxNonmemberRadius: fc.integer({ min: 0, max: 7 }),
    }),
  ),
  sourceRoute: opt(
    fc
      .array(u16, { minLength: 1, maxLength: 5 })
      .chain((relays) =>
        fc.integer({ min: 0, max: relays.length - 1 }).map((relayIndex) => ({ relayIndex, relays })),
      ),
  ),
});
const nwkFrame: fc.Arbitrary<NwkPlainFrame> = fc.oneof(
  fc
    .tuple(nwkHeader, bytes(60))
    .map(([h, payload]) => ({ ...h, frameType: 'data' as const, security: false as const, payload })),
  fc
    .tuple(nwkHeader, nwkCommand)
    .map(([h, command]) => ({ ...h, frameType: 'command' as const, security: false as const, command })),
);

// ---------- APS ----------
const apsCommand: fc.Arbitrary<ApsCommand> = fc.oneof(
  fc.record({
    id: fc.constant('transportKey' as const),
    keyType: fc.constant('network' as const),
    key: key16,
    sequenceNumber: u8,
    destination: eui,
    source: eui,
  }),
  fc.record({
    id: fc.constant('transportKey' as const),
    keyType: fc.constant('trustCenterLink' as const),
    key: key16,
    destination: eui,
    source: eui,
  }),
  fc.record({
    id: fc.constant('transportKey' as const),
    keyType: fc.constant('applicationLink' as const),
    key: key16,
    partner: eui,
    initiator: fc.boolean(),
  }),
  fc.record({ id: fc.constant('updateDevice' as const), device: eui, shortAddress: u16, status: u8 }),
  fc.record({ id: fc.constant('removeDevice' as const), target: eui }),
  fc.record({
    id: fc.constant('requestKey' as const),
    keyType: fc.constant('applicationLink' as const),
    partner: eui,
  }),
  fc.constant({ id: 'requestKey' as const, keyType: 'trustCenterLink' as const }),
  fc.record({ id: fc.constant('switchKey' as const), sequenceNumber: u8 }),
  fc.record({
    id: fc.constant('verifyKey' as const),
    keyType: u8,
    source: eui,
    initiatorVerifyKeyHash: key16,
  }),
  fc.record({ id: fc.constant('confirmKey' as const), status: u8, keyType: u8, destination: eui }),
);
const ext = (ack: boolean) =>
  opt(
    fc.oneof(
      fc.constant({ fragmentation: 0 as const }),
      fc
        .record({ fragmentation: fc.constantFrom(1 as const, 2 as const), blockNumber: u8 })
        .chain((e) => (ack ? u8.map((ackBitfield) => ({ ...e, ackBitfield })) : fc.constant(e))),
    ),
  );
const apsFrame: fc.Arbitrary<ApsPlainFrame> = fc.oneof(
  fc
    .record({
      deliveryMode: fc.constantFrom('unicast' as const, 'broadcast' as const, 'group' as const),
      ackRequest: fc.boolean(),
      endpoint: u8,
      group: u16,
      clusterId: u16,
      profileId: u16,
      sourceEndpoint: u8,
      counter: u8,
      extendedHeader: ext(false),
      payload: bytes(60),
    })
    .map(({ endpoint, group, ...f }) => ({
      frameType: 'data' as const,
      security: false as const,
      ...f,
      destinationEndpoint: f.deliveryMode === 'group' ? undefined : endpoint,
      groupAddress: f.deliveryMode === 'group' ? group : undefined,
    })),
  fc
    .oneof(
      fc.record({ ackFormat: fc.constant('command' as const) }),
      fc.record({
        ackFormat: fc.constant('data' as const),
        destinationEndpoint: u8,
        clusterId: u16,
        profileId: u16,
        sourceEndpoint: u8,
      }),
    )
    .chain((a) =>
      fc
        .record({
          deliveryMode: fc.constantFrom('unicast' as const, 'broadcast' as const),
          ackRequest: fc.boolean(),
          counter: u8,
          extendedHeader: ext(true),
        })
        .map((h) => ({ frameType: 'ack' as const, security: false as const, ...h, ...a })),
    ),
  fc
    .record({
      deliveryMode: fc.constantFrom('unicast' as const, 'broadcast' as const),
      ackRequest: fc.boolean(),
      counter: u8,
      command: apsCommand,
    })
    .map((c) => ({ frameType: 'command' as const, security: false as const, ...c })),
);

const interPan: fc.Arbitrary<InterPanPlainFrame> = fc
  .record({
    deliveryMode: fc.constantFrom('unicast' as const, 'broadcast' as const, 'group' as const),
    group: u16,
    clusterId: u16,
    profileId: u16,
    payload: bytes(60),
  })
  .map(({ group, ...f }) => ({
    ...f,
    security: false as const,
    groupAddress: f.deliveryMode === 'group' ? group : undefined,
  }));

// ---------- ZDO ----------
const tsn = { transactionSequenceNumber: u8 };
const neighbor = fc.record({
  extendedPanId: eui,
  extendedAddress: eui,
  networkAddress: u16,
  deviceType: fc.integer({ min: 0, max: 3 }),
  rxOnWhenIdle: fc.integer({ min: 0, max: 3 }),
  relationship: fc.integer({ min: 0, max: 7 }),
  permitJoining: fc.integer({ min: 0, max: 3 }),
  depth: u8,
  lqi: u8,
});
const zdoMessage: fc.Arbitrary<ZdoMessage> = fc.oneof(
  fc.record({
    ...tsn,
    command: fc.constant('nwkAddrReq' as const),
    ieeeAddress: eui,
    requestType: u8,
    startIndex: u8,
  }),
  fc.record({
    ...tsn,
    command: fc.constant('ieeeAddrReq' as const),
    nwkAddressOfInterest: u16,
    requestType: u8,
    startIndex: u8,
  }),
  fc.record({
    ...tsn,
    command: fc.constantFrom('nodeDescReq' as const, 'activeEpReq' as const),
    nwkAddressOfInterest: u16,
  }),
  fc.record({
    ...tsn,
    command: fc.constant('simpleDescReq' as const),
    nwkAddressOfInterest: u16,
    endpoint: u8,
  }),
  fc.record({
    ...tsn,
    command: fc.constant('deviceAnnce' as const),
    nwkAddress: u16,
    ieeeAddress: eui,
    capability: cap,
  }),
  fc.record({ ...tsn, command: fc.constant('mgmtLqiReq' as const), startIndex: u8 }),
  fc.record({
    ...tsn,
    command: fc.constant('mgmtLeaveReq' as const),
    deviceAddress: eui,
    removeChildren: fc.boolean(),
    rejoin: fc.boolean(),
  }),
  fc.record({
    ...tsn,
    command: fc.constant('mgmtPermitJoiningReq' as const),
    permitDuration: u8,
    tcSignificance: u8,
  }),
  fc.record({ ...tsn, command: fc.constantFrom('nwkAddrRsp' as const, 'ieeeAddrRsp' as const), status: u8 }),
  fc.record({
    ...tsn,
    command: fc.constantFrom('nwkAddrRsp' as const, 'ieeeAddrRsp' as const),
    status: u8,
    ieeeAddress: eui,
    nwkAddress: u16,
    associatedDevices: opt(
      fc
        .array(u16, { minLength: 1, maxLength: 6 })
        .chain((addresses) =>
          fc
            .integer({ min: 0, max: 10 })
            .map((startIndex) => ({ startIndex, total: startIndex + addresses.length, addresses })),
        ),
    ),
  }),
  fc.record({
    ...tsn,
    command: fc.constant('nodeDescRsp' as const),
    status: u8,
    nwkAddressOfInterest: u16,
    nodeDescriptor: opt(
      fc.record({
        logicalType: fc.integer({ min: 0, max: 2 }),
        complexDescriptorAvailable: fc.boolean(),
        userDescriptorAvailable: fc.boolean(),
        apsFlags: fc.integer({ min: 0, max: 7 }),
        frequencyBand: fc.integer({ min: 0, max: 31 }),
        macCapability: cap,
        manufacturerCode: u16,
        maximumBufferSize: u8,
        maximumIncomingTransferSize: u16,
        serverMask: u16,
        maximumOutgoingTransferSize: u16,
        descriptorCapability: u8,
      }),
    ),
  }),
  fc.record({
    ...tsn,
    command: fc.constant('simpleDescRsp' as const),
    status: u8,
    nwkAddressOfInterest: u16,
    simpleDescriptor: opt(
      fc.record({
        endpoint: u8,
        profileId: u16,
        deviceId: u16,
        deviceVersion: fc.integer({ min: 0, max: 15 }),
        inputClusters: fc.array(u16, { maxLength: 8 }),
        outputClusters: fc.array(u16, { maxLength: 8 }),
      }),
    ),
  }),
  fc.record({
    ...tsn,
    command: fc.constant('activeEpRsp' as const),
    status: u8,
    nwkAddressOfInterest: u16,
    endpoints: fc.array(u8, { maxLength: 10 }),
  }),
  fc.record({ ...tsn, command: fc.constant('mgmtLqiRsp' as const), status: u8 }),
  fc.record({
    ...tsn,
    command: fc.constant('mgmtLqiRsp' as const),
    status: u8,
    neighborTableEntries: u8,
    startIndex: u8,
    neighbors: fc.array(neighbor, { maxLength: 3 }),
  }),
  fc.record({
    ...tsn,
    command: fc.constantFrom('mgmtLeaveRsp' as const, 'mgmtPermitJoiningRsp' as const),
    status: u8,
  }),
);

describe('random valid frames round-trip exactly', () => {
  it('MAC', () => {
    fc.assert(
      fc.property(macFrame, (f) => {
        const psdu = encodeMacFrame(f);
        expect(decodeMacFrame(psdu)).toEqual(f);
        expect(toHex(encodeMacFrame(decodeMacFrame(psdu)))).toBe(toHex(psdu));
      }),
      RUNS,
    );
  });
  it('NWK, plain and secured', () => {
    fc.assert(
      fc.property(nwkFrame, u32, fc.integer({ min: 1, max: 7 }), (f, fc32, level) => {
        expect(decodeNwkFrame(encodeNwkFrame(f))).toEqual(f);
        const sec = secureNwkFrame(f, {
          key: NWK_KEY,
          frameCounter: fc32,
          sourceEui64: DEV_EUI,
          keySequenceNumber: 1,
          level,
        });
        expect(toHex(encodeNwkFrame(decodeNwkFrame(sec)))).toBe(toHex(sec));
        expect(unsecureNwkFrame(sec, { key: NWK_KEY, level }).frame).toEqual(f);
      }),
      RUNS,
    );
  });
  it('APS, plain and secured', () => {
    fc.assert(
      fc.property(
        apsFrame,
        fc.constantFrom('data' as const, 'keyTransport' as const, 'keyLoad' as const),
        u32,
        (f, keyId, fc32) => {
          expect(decodeApsFrame(encodeApsFrame(f))).toEqual(f);
          const sec = secureApsFrame(f, { key: LINK_KEY, keyId, frameCounter: fc32, sourceEui64: DEV_EUI });
          expect(toHex(encodeApsFrame(decodeApsFrame(sec)))).toBe(toHex(sec));
          expect(unsecureApsFrame(sec, { key: LINK_KEY }).frame).toEqual(f);
        },
      ),
      RUNS,
    );
  });
  it('Inter-PAN, plain and secured', () => {
    fc.assert(
      fc.property(interPan, u32, (f, fc32) => {
        expect(decodeInterPanFrame(encodeInterPanFrame(f))).toEqual(f);
        const sec = secureInterPanFrame(f, { key: LINK_KEY, frameCounter: fc32, sourceEui64: DEV_EUI });
        expect(unsecureInterPanFrame(sec, { key: LINK_KEY }).frame).toEqual(f);
      }),
      RUNS,
    );
  });
  it('ZDO', () => {
    fc.assert(
      fc.property(zdoMessage, (m) => {
        const { clusterId, payload } = encodeZdo(m);
        expect(decodeZdo(clusterId, payload)).toEqual(m);
      }),
      RUNS,
    );
  });
});

/** Run a decoder: success must re-encode to the same bytes; failure must be ZigbeeDecodeError. */
function tryDecode(bytes: Uint8Array, cluster: number): void {
  const attempts: [() => unknown, ((v: never) => Uint8Array) | null][] = [
    [() => decodeMacFrame(bytes), (v: MacFrame) => encodeMacFrame(v)],
    [() => decodeMacFrame(bytes, { fcs: false }), (v: MacFrame) => encodeMacFrame(v, { fcs: false })],
    [() => decodeNwkFrame(bytes), encodeNwkFrame as (v: never) => Uint8Array],
    [() => decodeApsFrame(bytes), encodeApsFrame as (v: never) => Uint8Array],
    [() => decodeInterPanFrame(bytes), encodeInterPanFrame as (v: never) => Uint8Array],
    [() => decodeZdo(cluster, bytes), (v: ZdoMessage) => encodeZdo(v).payload],
    [() => unsecureNwkFrame(bytes, { key: NWK_KEY, sourceEui64: DEV_EUI }), null],
    [() => unsecureApsFrame(bytes, { key: LINK_KEY, sourceEui64: DEV_EUI }), null],
    [() => unsecureInterPanFrame(bytes, { key: LINK_KEY }), null],
    [() => installCodeLinkKey(bytes), null],
  ];
  for (const [decode, encode] of attempts) {
    let v: unknown;
    try {
      v = decode();
    } catch (e) {
      if (!(e instanceof ZigbeeDecodeError)) throw e;
      continue;
    }
    if (encode) expect(toHex(encode(v as never))).toBe(toHex(bytes));
  }
}

const zdoClusters = Object.values(ZdoClusterId);
const seeds = allFrames().map((f) => f.psdu);
/** Every layer's bytes of the fixtures, so mutations hit deep decoders too. */
const layerSeeds: Uint8Array[] = (() => {
  const out: Uint8Array[] = [];
  for (const psdu of seeds) {
    out.push(psdu, psdu.subarray(0, psdu.length - 2));
    const mac = decodeMacFrame(psdu);
    if (mac.frameType !== 'data') continue;
    out.push(mac.payload);
    try {
      const nwk = unsecureNwkFrame(mac.payload, { key: NWK_KEY }).frame;
      if (nwk.frameType === 'data') {
        out.push(nwk.payload);
        const aps = decodeApsFrame(nwk.payload);
        if (aps.frameType === 'data' && !aps.security) out.push(aps.payload);
      }
    } catch {
      /* not NWK-secured */
    }
  }
  return out;
})();

describe('bad input never throws anything but ZigbeeDecodeError', () => {
  it('random bytes into every decoder', () => {
    fc.assert(
      fc.property(bytes(140), fc.constantFrom(...zdoClusters), (b, cluster) => tryDecode(b, cluster)),
      { numRuns: 1500 },
    );
  });

  it('mutated valid frames (flip, truncate, extend, splice) into every decoder', () => {
    const mutation = fc.record({
      seed: fc.integer({ min: 0, max: layerSeeds.length - 1 }),
      kind: fc.constantFrom('flip', 'set', 'truncate', 'append', 'delete'),
      at: fc.nat(),
      value: u8,
      cluster: fc.constantFrom(...zdoClusters),
    });
    fc.assert(
      fc.property(mutation, ({ seed, kind, at, value, cluster }) => {
        const src = layerSeeds[seed]!;
        const i = src.length === 0 ? 0 : at % src.length;
        let b = src.slice();
        if (kind === 'flip') b[i] = src[i]! ^ (1 << (value & 7));
        else if (kind === 'set') b[i] = value;
        else if (kind === 'truncate') b = src.slice(0, i);
        else if (kind === 'append') b = Uint8Array.from([...src, value]);
        else b = Uint8Array.from([...src.subarray(0, i), ...src.subarray(i + 1)]);
        tryDecode(b, cluster);
      }),
      { numRuns: 3000 },
    );
  });
});
