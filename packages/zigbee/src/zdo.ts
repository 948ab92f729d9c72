/**
 * ZigBee Device Object messages (05-3474 §2.4.3-2.4.4) used on a GB HAN: device announce,
 * node/active/simple descriptor, IEEE/NWK address, and management permit-join, leave and
 * LQI. Our own codec rather than zigbee-herdsman's Zdo, so that bad input is a typed
 * ZigbeeDecodeError and loading it does not pull in herdsman's serial-port stack. A ZDO frame
 * is the APS payload on endpoint 0, profile 0x0000: transaction sequence number, then fields;
 * the cluster id (responses = request | 0x8000) comes from the APS header.
 */
import { bits, type Eui64, Reader, Writer } from './bytes.js';
import { ZigbeeDecodeError } from './errors.js';
import { type CapabilityInformation, decodeCapability, encodeCapability } from './mac.js';

export const ZDO_PROFILE_ID = 0x0000;
export const ZDO_ENDPOINT = 0;

/** ZDO cluster ids (§2.4.3, §2.4.4). */
export const ZdoClusterId = {
  nwkAddrReq: 0x0000,
  ieeeAddrReq: 0x0001,
  nodeDescReq: 0x0002,
  simpleDescReq: 0x0004,
  activeEpReq: 0x0005,
  deviceAnnce: 0x0013,
  mgmtLqiReq: 0x0031,
  mgmtLeaveReq: 0x0034,
  mgmtPermitJoiningReq: 0x0036,
  nwkAddrRsp: 0x8000,
  ieeeAddrRsp: 0x8001,
  nodeDescRsp: 0x8002,
  simpleDescRsp: 0x8004,
  activeEpRsp: 0x8005,
  mgmtLqiRsp: 0x8031,
  mgmtLeaveRsp: 0x8034,
  mgmtPermitJoiningRsp: 0x8036,
} as const;
export type ZdoCommandName = keyof typeof ZdoClusterId;
const ZDO_NAMES = new Map<number, ZdoCommandName>(
  Object.entries(ZdoClusterId).map(([k, v]) => [v, k as ZdoCommandName]),
);

/** Node descriptor (§2.3.2.3). */
export interface NodeDescriptor {
  /** 0 coordinator, 1 router, 2 end device. */
  logicalType: number;
  complexDescriptorAvailable: boolean;
  userDescriptorAvailable: boolean;
  apsFlags: number;
  /** Bit mask: 0x01 868 MHz, 0x04 902 MHz, 0x08 2.4 GHz, 0x10 EU sub-GHz. */
  frequencyBand: number;
  macCapability: CapabilityInformation;
  manufacturerCode: number;
  maximumBufferSize: number;
  maximumIncomingTransferSize: number;
  serverMask: number;
  maximumOutgoingTransferSize: number;
  descriptorCapability: number;
}

/** Simple descriptor (§2.3.2.5). */
export interface SimpleDescriptor {
  endpoint: number;
  profileId: number;
  deviceId: number;
  deviceVersion: number;
  inputClusters: number[];
  outputClusters: number[];
}

/** Neighbor table list record of Mgmt_Lqi_rsp (§2.4.4.3.2, Table 2.127). */
export interface NeighborTableEntry {
  extendedPanId: Eui64;
  extendedAddress: Eui64;
  networkAddress: number;
  deviceType: number;
  rxOnWhenIdle: number;
  relationship: number;
  permitJoining: number;
  depth: number;
  lqi: number;
}

export interface AssociatedDevices {
  startIndex: number;
  /** Total number of associated devices (the list may hold a slice of them). */
  total: number;
  addresses: number[];
}

type Seq = { transactionSequenceNumber: number };

export type ZdoMessage = Seq &
  (
    | { command: 'nwkAddrReq'; ieeeAddress: Eui64; requestType: number; startIndex: number }
    | { command: 'ieeeAddrReq'; nwkAddressOfInterest: number; requestType: number; startIndex: number }
    | { command: 'nodeDescReq'; nwkAddressOfInterest: number }
    | { command: 'simpleDescReq'; nwkAddressOfInterest: number; endpoint: number }
    | { command: 'activeEpReq'; nwkAddressOfInterest: number }
    | { command: 'deviceAnnce'; nwkAddress: number; ieeeAddress: Eui64; capability: CapabilityInformation }
    | { command: 'mgmtLqiReq'; startIndex: number }
    | { command: 'mgmtLeaveReq'; deviceAddress: Eui64; removeChildren: boolean; rejoin: boolean }
    | { command: 'mgmtPermitJoiningReq'; permitDuration: number; tcSignificance: number }
    | {
        command: 'nwkAddrRsp' | 'ieeeAddrRsp';
        status: number;
        /** Absent in a bare error response (status only). */
        ieeeAddress?: Eui64;
        nwkAddress?: number;
        associatedDevices?: AssociatedDevices;
      }
    | {
        command: 'nodeDescRsp';
        status: number;
        nwkAddressOfInterest: number;
        nodeDescriptor?: NodeDescriptor;
      }
    | {
        command: 'simpleDescRsp';
        status: number;
        nwkAddressOfInterest: number;
        simpleDescriptor?: SimpleDescriptor;
      }
    | { command: 'activeEpRsp'; status: number; nwkAddressOfInterest: number; endpoints: number[] }
    | {
        command: 'mgmtLqiRsp';
        status: number;
        /** Absent in a bare error response. */
        neighborTableEntries?: number;
        startIndex?: number;
        neighbors?: NeighborTableEntry[];
      }
    | { command: 'mgmtLeaveRsp' | 'mgmtPermitJoiningRsp'; status: number }
  );

/** Encode a ZDO message: returns the APS cluster id and payload. */
export function encodeZdo(msg: ZdoMessage): { clusterId: number; payload: Uint8Array } {
  const w = new Writer(64);
  w.u8(msg.transactionSequenceNumber, 'transactionSequenceNumber');
  switch (msg.command) {
    case 'nwkAddrReq':
      w.eui64(msg.ieeeAddress).u8(msg.requestType, 'requestType').u8(msg.startIndex, 'startIndex');
      break;
    case 'ieeeAddrReq':
      w.u16(msg.nwkAddressOfInterest, 'nwkAddressOfInterest').u8(msg.requestType, 'requestType');
      w.u8(msg.startIndex, 'startIndex');
      break;
    case 'nodeDescReq':
    case 'activeEpReq':
      w.u16(msg.nwkAddressOfInterest, 'nwkAddressOfInterest');
      break;
    case 'simpleDescReq':
      w.u16(msg.nwkAddressOfInterest, 'nwkAddressOfInterest').u8(msg.endpoint, 'endpoint');
      break;
    case 'deviceAnnce':
      w.u16(msg.nwkAddress, 'nwkAddress').eui64(msg.ieeeAddress).u8(encodeCapability(msg.capability));
      break;
    case 'mgmtLqiReq':
      w.u8(msg.startIndex, 'startIndex');
      break;
    case 'mgmtLeaveReq':
      w.eui64(msg.deviceAddress).u8((msg.removeChildren ? 0x40 : 0) | (msg.rejoin ? 0x80 : 0));
      break;
    case 'mgmtPermitJoiningReq':
      w.u8(msg.permitDuration, 'permitDuration').u8(msg.tcSignificance, 'tcSignificance');
      break;
    case 'nwkAddrRsp':
    case 'ieeeAddrRsp':
      w.u8(msg.status, 'status');
      if ((msg.ieeeAddress === undefined) !== (msg.nwkAddress === undefined)) {
        throw new RangeError('ieeeAddress and nwkAddress go together');
      }
      if (msg.ieeeAddress !== undefined) w.eui64(msg.ieeeAddress).u16(msg.nwkAddress!, 'nwkAddress');
      if (msg.associatedDevices) {
        if (msg.ieeeAddress === undefined) throw new RangeError('associatedDevices need the addresses');
        const a = msg.associatedDevices;
        w.u8(a.total, 'numAssocDev');
        if (a.total > 0) {
          w.u8(a.startIndex, 'startIndex');
          for (const d of a.addresses) w.u16(d, 'nwkAddrAssocDev');
        } else if (a.addresses.length > 0 || a.startIndex !== 0) {
          throw new RangeError('no associated devices: list and startIndex must be empty/0');
        }
      }
      break;
    case 'nodeDescRsp':
      w.u8(msg.status, 'status').u16(msg.nwkAddressOfInterest, 'nwkAddressOfInterest');
      if (msg.nodeDescriptor) {
        const d = msg.nodeDescriptor;
        w.u8(
          bits(d.logicalType, 3, 'logicalType') |
            (d.complexDescriptorAvailable ? 0x08 : 0) |
            (d.userDescriptorAvailable ? 0x10 : 0),
        );
        w.u8(bits(d.apsFlags, 3, 'apsFlags') | (bits(d.frequencyBand, 5, 'frequencyBand') << 3));
        w.u8(encodeCapability(d.macCapability)).u16(d.manufacturerCode, 'manufacturerCode');
        w.u8(d.maximumBufferSize, 'maximumBufferSize').u16(d.maximumIncomingTransferSize, 'maxIn');
        w.u16(d.serverMask, 'serverMask').u16(d.maximumOutgoingTransferSize, 'maxOut');
        w.u8(d.descriptorCapability, 'descriptorCapability');
      }
      break;
    case 'simpleDescRsp':
      w.u8(msg.status, 'status').u16(msg.nwkAddressOfInterest, 'nwkAddressOfInterest');
      if (msg.simpleDescriptor) {
        const s = msg.simpleDescriptor;
        w.u8(8 + 2 * (s.inputClusters.length + s.outputClusters.length), 'length');
        w.u8(s.endpoint, 'endpoint').u16(s.profileId, 'profileId').u16(s.deviceId, 'deviceId');
        w.u8(bits(s.deviceVersion, 4, 'deviceVersion'));
        w.u8(s.inputClusters.length, 'inputClusterCount');
        for (const c of s.inputClusters) w.u16(c, 'inputCluster');
        w.u8(s.outputClusters.length, 'outputClusterCount');
        for (const c of s.outputClusters) w.u16(c, 'outputCluster');
      } else w.u8(0);
      break;
    case 'activeEpRsp':
      w.u8(msg.status, 'status').u16(msg.nwkAddressOfInterest, 'nwkAddressOfInterest');
      w.u8(msg.endpoints.length, 'activeEpCount');
      for (const e of msg.endpoints) w.u8(e, 'endpoint');
      break;
    case 'mgmtLqiRsp':
      w.u8(msg.status, 'status');
      if (msg.neighbors) {
        w.u8(msg.neighborTableEntries ?? msg.neighbors.length, 'neighborTableEntries');
        w.u8(msg.startIndex ?? 0, 'startIndex').u8(msg.neighbors.length, 'neighborTableListCount');
        for (const n of msg.neighbors) {
          w.eui64(n.extendedPanId).eui64(n.extendedAddress).u16(n.networkAddress, 'networkAddress');
          w.u8(
            bits(n.deviceType, 2, 'deviceType') |
              (bits(n.rxOnWhenIdle, 2, 'rxOnWhenIdle') << 2) |
              (bits(n.relationship, 3, 'relationship') << 4),
          );
          w.u8(bits(n.permitJoining, 2, 'permitJoining'))
            .u8(n.depth, 'depth')
            .u8(n.lqi, 'lqi');
        }
      }
      break;
    case 'mgmtLeaveRsp':
    case 'mgmtPermitJoiningRsp':
      w.u8(msg.status, 'status');
      break;
  }
  return { clusterId: ZdoClusterId[msg.command], payload: w.finish() };
}

/** Decode the APS payload of a ZDO frame with the given cluster id. */
export function decodeZdo(clusterId: number, payload: Uint8Array): ZdoMessage {
  const command = ZDO_NAMES.get(clusterId);
  if (!command)
    throw new ZigbeeDecodeError('ZDO', 'UNSUPPORTED', 'clusterId', `ZDO cluster 0x${clusterId.toString(16)}`);
  const r = new Reader(payload, 'ZDO');
  const transactionSequenceNumber = r.u8('transactionSequenceNumber');
  let m: ZdoMessage;
  switch (command) {
    case 'nwkAddrReq':
      m = {
        transactionSequenceNumber,
        command,
        ieeeAddress: r.eui64('ieeeAddress'),
        requestType: r.u8('requestType'),
        startIndex: r.u8('startIndex'),
      };
      break;
    case 'ieeeAddrReq':
      m = {
        transactionSequenceNumber,
        command,
        nwkAddressOfInterest: r.u16('nwkAddressOfInterest'),
        requestType: r.u8('requestType'),
        startIndex: r.u8('startIndex'),
      };
      break;
    case 'nodeDescReq':
    case 'activeEpReq':
      m = { transactionSequenceNumber, command, nwkAddressOfInterest: r.u16('nwkAddressOfInterest') };
      break;
    case 'simpleDescReq':
      m = {
        transactionSequenceNumber,
        command,
        nwkAddressOfInterest: r.u16('nwkAddressOfInterest'),
        endpoint: r.u8('endpoint'),
      };
      break;
    case 'deviceAnnce':
      m = {
        transactionSequenceNumber,
        command,
        nwkAddress: r.u16('nwkAddress'),
        ieeeAddress: r.eui64('ieeeAddress'),
        capability: decodeCapability(r, 'capability'),
      };
      break;
    case 'mgmtLqiReq':
      m = { transactionSequenceNumber, command, startIndex: r.u8('startIndex') };
      break;
    case 'mgmtLeaveReq': {
      const deviceAddress = r.eui64('deviceAddress');
      const f = r.u8('flags');
      if (f & 0x3f) throw r.invalid('flags', 'reserved bits set');
      m = {
        transactionSequenceNumber,
        command,
        deviceAddress,
        removeChildren: (f & 0x40) !== 0,
        rejoin: (f & 0x80) !== 0,
      };
      break;
    }
    case 'mgmtPermitJoiningReq':
      m = {
        transactionSequenceNumber,
        command,
        permitDuration: r.u8('permitDuration'),
        tcSignificance: r.u8('tcSignificance'),
      };
      break;
    case 'nwkAddrRsp':
    case 'ieeeAddrRsp': {
      const status = r.u8('status');
      m = { transactionSequenceNumber, command, status };
      if (r.remaining > 0) {
        m.ieeeAddress = r.eui64('ieeeAddrRemoteDev');
        m.nwkAddress = r.u16('nwkAddrRemoteDev');
        if (r.remaining > 0) {
          const total = r.u8('numAssocDev');
          const a: AssociatedDevices = { total, startIndex: 0, addresses: [] };
          if (total > 0) {
            a.startIndex = r.u8('startIndex');
            if (a.startIndex >= total)
              throw r.invalid('startIndex', `${a.startIndex} >= numAssocDev ${total}`);
            const n = Math.min(total - a.startIndex, r.remaining >> 1);
            for (let i = 0; i < n; i++) a.addresses.push(r.u16('nwkAddrAssocDevList'));
          }
          m.associatedDevices = a;
        }
      }
      break;
    }
    case 'nodeDescRsp': {
      const status = r.u8('status');
      const nwkAddressOfInterest = r.u16('nwkAddressOfInterest');
      m = { transactionSequenceNumber, command, status, nwkAddressOfInterest };
      if (r.remaining > 0) {
        const b0 = r.u8('nodeDescriptor');
        const b1 = r.u8('nodeDescriptor');
        m.nodeDescriptor = {
          logicalType: b0 & 7,
          complexDescriptorAvailable: (b0 & 0x08) !== 0,
          userDescriptorAvailable: (b0 & 0x10) !== 0,
          apsFlags: b1 & 7,
          frequencyBand: b1 >> 3,
          macCapability: decodeCapability(r, 'macCapabilityFlags'),
          manufacturerCode: r.u16('manufacturerCode'),
          maximumBufferSize: r.u8('maximumBufferSize'),
          maximumIncomingTransferSize: r.u16('maximumIncomingTransferSize'),
          serverMask: r.u16('serverMask'),
          maximumOutgoingTransferSize: r.u16('maximumOutgoingTransferSize'),
          descriptorCapability: r.u8('descriptorCapability'),
        };
        if (b0 & 0xe0) throw r.invalid('nodeDescriptor', 'reserved bits set');
        if (m.nodeDescriptor.logicalType > 2) throw r.invalid('logicalType', 'reserved logical type');
      }
      break;
    }
    case 'simpleDescRsp': {
      const status = r.u8('status');
      const nwkAddressOfInterest = r.u16('nwkAddressOfInterest');
      m = { transactionSequenceNumber, command, status, nwkAddressOfInterest };
      const length = r.u8('length');
      if (length > 0) {
        const start = r.offset;
        r.need(length, 'simpleDescriptor');
        const endpoint = r.u8('endpoint');
        const profileId = r.u16('profileId');
        const deviceId = r.u16('deviceId');
        const v = r.u8('deviceVersion');
        if (v & 0xf0) throw r.invalid('deviceVersion', 'reserved bits set');
        const inputClusters: number[] = [];
        for (let i = r.u8('inputClusterCount'); i > 0; i--) inputClusters.push(r.u16('inputClusterList'));
        const outputClusters: number[] = [];
        for (let i = r.u8('outputClusterCount'); i > 0; i--) outputClusters.push(r.u16('outputClusterList'));
        if (r.offset - start !== length)
          throw r.invalid('length', `${length} != descriptor size ${r.offset - start}`);
        m.simpleDescriptor = {
          endpoint,
          profileId,
          deviceId,
          deviceVersion: v,
          inputClusters,
          outputClusters,
        };
      }
      break;
    }
    case 'activeEpRsp': {
      const status = r.u8('status');
      const nwkAddressOfInterest = r.u16('nwkAddressOfInterest');
      const endpoints: number[] = [];
      for (let i = r.u8('activeEpCount'); i > 0; i--) endpoints.push(r.u8('activeEpList'));
      m = { transactionSequenceNumber, command, status, nwkAddressOfInterest, endpoints };
      break;
    }
    case 'mgmtLqiRsp': {
      const status = r.u8('status');
      m = { transactionSequenceNumber, command, status };
      if (r.remaining > 0) {
        m.neighborTableEntries = r.u8('neighborTableEntries');
        m.startIndex = r.u8('startIndex');
        const n = r.u8('neighborTableListCount');
        m.neighbors = [];
        for (let i = 0; i < n; i++) {
          const extendedPanId = r.eui64('extendedPanId');
          const extendedAddress = r.eui64('extendedAddress');
          const networkAddress = r.u16('networkAddress');
          const b = r.u8('deviceTypeRxOnRelationship');
          if (b & 0x80) throw r.invalid('relationship', 'reserved bit 7 set');
          const p = r.u8('permitJoining');
          if (p & 0xfc) throw r.invalid('permitJoining', 'reserved bits set');
          m.neighbors.push({
            extendedPanId,
            extendedAddress,
            networkAddress,
            deviceType: b & 3,
            rxOnWhenIdle: (b >> 2) & 3,
            relationship: (b >> 4) & 7,
            permitJoining: p,
            depth: r.u8('depth'),
            lqi: r.u8('lqi'),
          });
        }
      }
      break;
    }
    case 'mgmtLeaveRsp':
    case 'mgmtPermitJoiningRsp':
      m = { transactionSequenceNumber, command, status: r.u8('status') };
      break;
  }
  r.done(command);
  return m;
}
