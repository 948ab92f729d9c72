/**
 * The ZigBee Smart Energy clusters zigbee-herdsman lacks (it comments them out), as data in
 * herdsman's own `Cluster` definition format, so they could be pasted into herdsman's
 * `definition/cluster.ts` unchanged. Field names follow ZigBee SE 1.4 (07-5356-21) in
 * herdsman's camelCase; command ids and payload layouts are cited per section. They go in the
 * `customClusters` argument of `Zcl.Frame.create` / `Zcl.Frame.fromBuffer`.
 *
 * Numeric parameters carry `max` (the type's full range) where the all-ones value is a real
 * value in SE (e.g. duration 0xFFFF = "until changed"): without it herdsman turns the ZCL
 * "invalid" sentinel into NaN on read.
 *
 * Variable-length repeated payloads (top-up log, debt log, prepay snapshot) are BUFFER (the
 * rest of the frame, as herdsman does for tunnel data); `prepayment.ts` parses their records.
 */
import {
  BuffaloZclDataType,
  type Cluster,
  type CustomClusters,
  DataType,
  ParameterCondition,
} from './herdsman.js';

const U8 = { type: DataType.UINT8, max: 0xff } as const;
const U16 = { type: DataType.UINT16, max: 0xffff } as const;
const U32 = { type: DataType.UINT32, max: 0xffffffff } as const;
const I32 = { type: DataType.INT32, min: -0x80000000, max: 0x7fffffff } as const;
const E8 = { type: DataType.ENUM8, max: 0xff } as const;
const E16 = { type: DataType.ENUM16, max: 0xffff } as const;
const UTC = { type: DataType.UTC, max: 0xffffffff } as const;
const MAP8 = { type: DataType.BITMAP8 } as const;
const MAP32 = { type: DataType.BITMAP32 } as const;
const REST = { type: BuffaloZclDataType.BUFFER } as const;
/** Present only if at least `n` bytes remain (fields added in a later SE revision). */
const ifRemaining = (n: number) => ({
  conditions: [{ type: ParameterCondition.MINIMUM_REMAINING_BUFFER_BYTES, value: n }] as const,
});

/** Key Establishment 0x0800, SE 1.4 Annex C.3.1 (commands C.3.1.2.3 / C.3.1.2.4). */
export const keyEstablishment: Cluster = {
  ID: 0x0800,
  name: 'keyEstablishment',
  attributes: {
    /** C.3.1.2.2: bit 0 = crypto suite 1 (K163), bit 1 = crypto suite 2 (K283). Same id on the client. */
    keyEstablishmentSuite: {
      ID: 0x0000,
      name: 'keyEstablishmentSuite',
      type: DataType.BITMAP16,
      required: true,
    },
  },
  commands: {
    initiateKeyEstablishmentRequest: {
      ID: 0x00,
      name: 'initiateKeyEstablishmentRequest',
      response: 0x00,
      required: true,
      parameters: [
        { name: 'keyEstablishmentSuite', ...E16 },
        { name: 'ephemeralDataGenerateTime', ...U8 },
        { name: 'confirmKeyGenerateTime', ...U8 },
        /** Implicit certificate: 48 octets (suite 1) or 74 (suite 2). */
        { name: 'identity', ...REST, minLen: 48, maxLen: 74 },
      ],
    },
    ephemeralDataRequest: {
      ID: 0x01,
      name: 'ephemeralDataRequest',
      response: 0x01,
      required: true,
      /** QEU, a compressed point: 22 octets (suite 1) or 37 (suite 2). */
      parameters: [{ name: 'ephemeralData', ...REST, minLen: 22, maxLen: 37 }],
    },
    confirmKeyDataRequest: {
      ID: 0x02,
      name: 'confirmKeyDataRequest',
      response: 0x02,
      required: true,
      parameters: [{ name: 'secureMessageAuthenticationCode', ...REST, length: 16 }],
    },
    terminateKeyEstablishment: {
      ID: 0x03,
      name: 'terminateKeyEstablishment',
      required: true,
      parameters: [
        { name: 'statusCode', ...E8 },
        { name: 'waitTime', ...U8 },
        { name: 'keyEstablishmentSuite', ...E16 },
      ],
    },
  },
  commandsResponse: {
    initiateKeyEstablishmentResponse: {
      ID: 0x00,
      name: 'initiateKeyEstablishmentResponse',
      required: true,
      parameters: [
        { name: 'keyEstablishmentSuite', ...E16 },
        { name: 'ephemeralDataGenerateTime', ...U8 },
        { name: 'confirmKeyGenerateTime', ...U8 },
        { name: 'identity', ...REST, minLen: 48, maxLen: 74 },
      ],
    },
    ephemeralDataResponse: {
      ID: 0x01,
      name: 'ephemeralDataResponse',
      required: true,
      parameters: [{ name: 'ephemeralData', ...REST, minLen: 22, maxLen: 37 }],
    },
    confirmKeyDataResponse: {
      ID: 0x02,
      name: 'confirmKeyDataResponse',
      required: true,
      parameters: [{ name: 'secureMessageAuthenticationCode', ...REST, length: 16 }],
    },
    terminateKeyEstablishment: {
      ID: 0x03,
      name: 'terminateKeyEstablishment',
      required: true,
      parameters: [
        { name: 'statusCode', ...E8 },
        { name: 'waitTime', ...U8 },
        { name: 'keyEstablishmentSuite', ...E16 },
      ],
    },
  },
};

/** Price 0x0700, SE 1.4 D.4 (client commands D.4.2.3, server commands D.4.2.4). */
export const sePrice: Cluster = {
  ID: 0x0700,
  name: 'sePrice',
  attributes: {},
  commands: {
    /** D.4.2.3.1: bit 0 of commandOptions = requestor Rx on when idle. */
    getCurrentPrice: {
      ID: 0x00,
      name: 'getCurrentPrice',
      response: 0x00,
      required: true,
      parameters: [{ name: 'commandOptions', ...MAP8 }],
    },
    /** D.4.2.3.2: startTime 0 = now. */
    getScheduledPrices: {
      ID: 0x01,
      name: 'getScheduledPrices',
      response: 0x00,
      parameters: [
        { name: 'startTime', ...UTC },
        { name: 'numberOfEvents', ...U8 },
      ],
    },
  },
  commandsResponse: {
    /** D.4.2.4.1 Publish Price (the SE 1.2+ layout: every field present). */
    publishPrice: {
      ID: 0x00,
      name: 'publishPrice',
      required: true,
      parameters: [
        { name: 'providerId', ...U32 },
        { name: 'rateLabel', type: DataType.OCTET_STR, maxLen: 12 },
        { name: 'issuerEventId', ...U32 },
        { name: 'currentTime', ...UTC },
        { name: 'unitOfMeasure', ...E8 },
        /** ISO 4217 numeric, e.g. 826 GBP. */
        { name: 'currency', ...U16 },
        /** Bits 7..4 trailing digit, bits 3..0 price tier. */
        { name: 'priceTrailingDigitAndPriceTier', ...MAP8 },
        /** Bits 7..4 number of price tiers, bits 3..0 register tier. */
        { name: 'numberOfPriceTiersAndRegisterTier', ...MAP8 },
        /** 0x00000000 = now. */
        { name: 'startTime', ...UTC },
        /** 0xFFFF = until changed. */
        { name: 'durationInMinutes', ...U16 },
        { name: 'price', ...U32 },
        { name: 'priceRatio', ...U8 },
        { name: 'generationPrice', ...U32 },
        { name: 'generationPriceRatio', ...U8 },
        { name: 'alternateCostDelivered', ...U32 },
        { name: 'alternateCostUnit', ...E8 },
        { name: 'alternateCostTrailingDigit', ...MAP8 },
        { name: 'numberOfBlockThresholds', ...U8 },
        { name: 'priceControl', ...MAP8 },
        { name: 'numberOfGenerationTiers', ...U8 },
        { name: 'generationTier', ...E8 },
        { name: 'extendedNumberOfPriceTiers', ...E8 },
        { name: 'extendedPriceTier', ...E8 },
        { name: 'extendedRegisterTier', ...E8 },
      ],
    },
  },
};

/** Messaging 0x0703, SE 1.4 D.5 (server commands D.5.2.3, client commands D.5.2.4). */
export const seMessaging: Cluster = {
  ID: 0x0703,
  name: 'seMessaging',
  attributes: {},
  commands: {
    getLastMessage: { ID: 0x00, name: 'getLastMessage', parameters: [] },
    /** D.5.2.4.2; the last two fields were added in SE 1.2 and may be absent. */
    messageConfirmation: {
      ID: 0x01,
      name: 'messageConfirmation',
      required: true,
      parameters: [
        { name: 'messageId', ...U32 },
        { name: 'confirmationTime', ...UTC },
        { name: 'messageConfirmationControl', ...MAP8, ...ifRemaining(1) },
        { name: 'messageResponse', type: DataType.OCTET_STR, maxLen: 20, ...ifRemaining(1) },
      ],
    },
  },
  commandsResponse: {
    /** D.5.2.3.1; extendedMessageControl added in SE 1.2. */
    displayMessage: {
      ID: 0x00,
      name: 'displayMessage',
      required: true,
      parameters: [
        { name: 'messageId', ...U32 },
        /** Bits 1..0 transmission, 3..2 importance, 5 enhanced confirmation, 7 confirmation required. */
        { name: 'messageControl', ...MAP8 },
        { name: 'startTime', ...UTC },
        { name: 'durationInMinutes', ...U16 },
        { name: 'message', type: DataType.CHAR_STR },
        { name: 'extendedMessageControl', ...MAP8, ...ifRemaining(1) },
      ],
    },
    /** D.5.2.3.2 */
    cancelMessage: {
      ID: 0x01,
      name: 'cancelMessage',
      required: true,
      parameters: [
        { name: 'messageId', ...U32 },
        { name: 'messageControl', ...MAP8 },
      ],
    },
  },
};

/** Prepayment 0x0705, SE 1.4 D.7 (client commands D.7.2.3, server commands D.7.2.4). */
export const sePrepayment: Cluster = {
  ID: 0x0705,
  name: 'sePrepayment',
  attributes: {
    paymentControlConfiguration: { ID: 0x0000, name: 'paymentControlConfiguration', type: DataType.BITMAP16 },
    creditRemaining: { ID: 0x0001, name: 'creditRemaining', type: DataType.INT32 },
    emergencyCreditRemaining: { ID: 0x0002, name: 'emergencyCreditRemaining', type: DataType.INT32 },
    creditStatus: { ID: 0x0003, name: 'creditStatus', type: DataType.BITMAP8 },
    creditRemainingTimestamp: { ID: 0x0004, name: 'creditRemainingTimestamp', type: DataType.UTC },
    accumulatedDebt: { ID: 0x0005, name: 'accumulatedDebt', type: DataType.INT32 },
    overallDebtCap: { ID: 0x0006, name: 'overallDebtCap', type: DataType.INT32 },
  },
  commands: {
    /** D.7.2.3.1 */
    selectAvailableEmergencyCredit: {
      ID: 0x00,
      name: 'selectAvailableEmergencyCredit',
      parameters: [
        { name: 'commandIssueDateTime', ...UTC },
        /** 0 ESI, 1 meter, 2 IHD. */
        { name: 'originatingDevice', ...E8 },
      ],
    },
    /** D.7.2.3.4: the top-up code is an octet string of up to 25 digits. */
    consumerTopUp: {
      ID: 0x04,
      name: 'consumerTopUp',
      response: 0x03,
      parameters: [
        { name: 'originatingDevice', ...E8 },
        { name: 'topUpCode', type: DataType.OCTET_STR, maxLen: 26 },
      ],
    },
    /** D.7.2.3.7 */
    getPrepaySnapshot: {
      ID: 0x07,
      name: 'getPrepaySnapshot',
      response: 0x01,
      parameters: [
        { name: 'earliestStartTime', ...UTC },
        { name: 'latestEndTime', ...UTC },
        { name: 'snapshotOffset', ...U8 },
        { name: 'snapshotCause', ...MAP32 },
      ],
    },
    /** D.7.2.3.8 */
    getTopUpLog: {
      ID: 0x08,
      name: 'getTopUpLog',
      response: 0x05,
      parameters: [
        { name: 'latestEndTime', ...UTC },
        { name: 'numberOfRecords', ...U8 },
      ],
    },
    /** D.7.2.3.10 */
    getDebtRepaymentLog: {
      ID: 0x0a,
      name: 'getDebtRepaymentLog',
      response: 0x06,
      parameters: [
        { name: 'latestEndTime', ...UTC },
        { name: 'numberOfDebts', ...U8 },
        /** 0 debt 1, 1 debt 2, 2 debt 3, 0xFF all. */
        { name: 'debtType', ...E8 },
      ],
    },
  },
  commandsResponse: {
    /** D.7.2.4.1; payload type 0 = Debt/Credit Status (see prepayment.ts). */
    publishPrepaySnapshot: {
      ID: 0x01,
      name: 'publishPrepaySnapshot',
      parameters: [
        { name: 'snapshotId', ...U32 },
        { name: 'snapshotTime', ...UTC },
        { name: 'totalSnapshotsFound', ...U8 },
        { name: 'commandIndex', ...U8 },
        { name: 'totalNumberOfCommands', ...U8 },
        { name: 'snapshotCause', ...MAP32 },
        { name: 'snapshotPayloadType', ...E8 },
        { name: 'snapshotPayload', ...REST },
      ],
    },
    /** D.7.2.4.3 */
    consumerTopUpResponse: {
      ID: 0x03,
      name: 'consumerTopUpResponse',
      parameters: [
        /** 0 accepted, 1 rejected-invalid, 2 rejected-duplicate, 3 rejected-error, 4 rejected-max credit, ... */
        { name: 'resultType', ...E8 },
        { name: 'topUpValue', ...I32 },
        { name: 'sourceOfTopUp', ...E8 },
        { name: 'creditRemaining', ...I32 },
      ],
    },
    /** D.7.2.4.4: records of (topUpCode octstr, topUpAmount int32, topUpTime UTC). */
    publishTopUpLog: {
      ID: 0x05,
      name: 'publishTopUpLog',
      parameters: [
        { name: 'commandIndex', ...U8 },
        { name: 'totalNumberOfCommands', ...U8 },
        { name: 'topUpPayload', ...REST },
      ],
    },
    /** D.7.2.4.5: records of (collectionTime UTC, amountCollected u32, debtType enum8, outstandingDebt u32). */
    publishDebtLog: {
      ID: 0x06,
      name: 'publishDebtLog',
      parameters: [
        { name: 'commandIndex', ...U8 },
        { name: 'totalNumberOfCommands', ...U8 },
        { name: 'debtPayload', ...REST },
      ],
    },
  },
};

/**
 * Tunneling 0x0704, SE 1.4 D.6, completing herdsman's `seTunneling` (same name, id and command
 * names, so it overrides the built-in through customClusters without breaking callers): adds
 * the protocol list of Supported Tunnel Protocols Response and keeps all-ones values raw.
 * Each `protocolList` entry is the 3-octet record (manufacturerCode u16, protocolId u8) read
 * as one little-endian uint24: see `packTunnelProtocol` / `unpackTunnelProtocol` in tunneling.ts.
 */
export const seTunneling: Cluster = {
  ID: 0x0704,
  name: 'seTunneling',
  attributes: {
    closeTunnelTimeout: {
      ID: 0x0000,
      name: 'closeTunnelTimeout',
      type: DataType.UINT16,
      required: true,
      min: 1,
      default: 0xffff,
    },
  },
  commands: {
    /** D.6.2.4.1 */
    requestTunnel: {
      ID: 0x00,
      name: 'requestTunnel',
      response: 0x00,
      required: true,
      parameters: [
        { name: 'protocolId', ...E8 },
        { name: 'manufacturerCode', ...U16 },
        { name: 'flowControl', type: DataType.BOOLEAN, max: 1 },
        { name: 'maxIncomingTransferSize', ...U16 },
      ],
    },
    /** D.6.2.4.2 */
    closeTunnel: {
      ID: 0x01,
      name: 'closeTunnel',
      required: true,
      parameters: [{ name: 'tunnelId', ...U16 }],
    },
    /** D.6.2.4.3 */
    transferData: {
      ID: 0x02,
      name: 'transferData',
      required: true,
      parameters: [
        { name: 'tunnelId', ...U16 },
        { name: 'data', ...REST },
      ],
    },
    /** D.6.2.4.4: 0 no such tunnel, 1 wrong device, 2 data overflow. */
    transferDataError: {
      ID: 0x03,
      name: 'transferDataError',
      required: true,
      parameters: [
        { name: 'tunnelId', ...U16 },
        { name: 'status', ...E8 },
      ],
    },
    /** D.6.2.4.5 */
    ackTransferData: {
      ID: 0x04,
      name: 'ackTransferData',
      parameters: [
        { name: 'tunnelId', ...U16 },
        { name: 'numberOfBytesLeft', ...U16 },
      ],
    },
    /** D.6.2.4.6 */
    readyData: {
      ID: 0x05,
      name: 'readyData',
      parameters: [
        { name: 'tunnelId', ...U16 },
        { name: 'numberOfOctetsLeft', ...U16 },
      ],
    },
    /** D.6.2.4.7 */
    getSupportedTunnelProtocols: {
      ID: 0x06,
      name: 'getSupportedTunnelProtocols',
      response: 0x05,
      parameters: [{ name: 'protocolOffset', ...U8 }],
    },
  },
  commandsResponse: {
    /** D.6.2.5.1: status 0 success, 1 busy, 2 no more tunnel ids, 3 protocol not supported, 4 flow control not supported. */
    requestTunnelRsp: {
      ID: 0x00,
      name: 'requestTunnelRsp',
      required: true,
      parameters: [
        { name: 'tunnelId', ...U16 },
        { name: 'status', ...E8 },
        { name: 'maxIncomingTransferSize', ...U16 },
      ],
    },
    /** D.6.2.5.2 */
    transferData: {
      ID: 0x01,
      name: 'transferData',
      required: true,
      parameters: [
        { name: 'tunnelId', ...U16 },
        { name: 'data', ...REST },
      ],
    },
    /** D.6.2.5.3 */
    transferDataError: {
      ID: 0x02,
      name: 'transferDataError',
      required: true,
      parameters: [
        { name: 'tunnelId', ...U16 },
        { name: 'status', ...E8 },
      ],
    },
    /** D.6.2.5.4 */
    ackTransferData: {
      ID: 0x03,
      name: 'ackTransferData',
      parameters: [
        { name: 'tunnelId', ...U16 },
        { name: 'numberOfBytesLeft', ...U16 },
      ],
    },
    /** D.6.2.5.5 */
    readyData: {
      ID: 0x04,
      name: 'readyData',
      parameters: [
        { name: 'tunnelId', ...U16 },
        { name: 'numberOfOctetsLeft', ...U16 },
      ],
    },
    /** D.6.2.5.6 */
    supportedProtocolsRsp: {
      ID: 0x05,
      name: 'supportedProtocolsRsp',
      parameters: [
        { name: 'listComplete', type: DataType.BOOLEAN, max: 1 },
        { name: 'count', ...U8 },
        { name: 'protocolList', type: BuffaloZclDataType.LIST_UINT24 },
      ],
    },
    /** D.6.2.5.7 */
    closureNotification: {
      ID: 0x06,
      name: 'closureNotification',
      parameters: [{ name: 'tunnelId', ...U16 }],
    },
  },
};

/** Sub-GHz 0x070B, SE 1.4 D.14 (the GB868 duty-cycle cluster). */
export const seSubGhz: Cluster = {
  ID: 0x070b,
  name: 'seSubGhz',
  attributes: {
    channelChange: { ID: 0x0000, name: 'channelChange', type: DataType.BITMAP32 },
    page28ChannelMask: { ID: 0x0001, name: 'page28ChannelMask', type: DataType.BITMAP32 },
    page29ChannelMask: { ID: 0x0002, name: 'page29ChannelMask', type: DataType.BITMAP32 },
    page30ChannelMask: { ID: 0x0003, name: 'page30ChannelMask', type: DataType.BITMAP32 },
    page31ChannelMask: { ID: 0x0004, name: 'page31ChannelMask', type: DataType.BITMAP32 },
  },
  commands: {
    /** D.14.3.2.1 (client -> server), no payload; answered with Suspend ZCL Messages. */
    getSuspendZclMessagesStatus: {
      ID: 0x00,
      name: 'getSuspendZclMessagesStatus',
      response: 0x00,
      parameters: [],
    },
  },
  commandsResponse: {
    /** D.14.2.3.1: period in minutes; 0 = resume now. */
    suspendZclMessages: { ID: 0x00, name: 'suspendZclMessages', parameters: [{ name: 'period', ...U8 }] },
  },
};

/** Every cluster above, keyed by name: the `customClusters` argument for herdsman. */
export const SMART_ENERGY_CLUSTERS: CustomClusters = {
  keyEstablishment,
  sePrice,
  seMessaging,
  sePrepayment,
  seTunneling,
  seSubGhz,
};

/** Also resolve herdsman's built-in SE clusters (Metering) under the same lookup. */
export const SMART_ENERGY_CLUSTER_IDS = {
  keyEstablishment: 0x0800,
  sePrice: 0x0700,
  seMetering: 0x0702,
  seMessaging: 0x0703,
  seTunneling: 0x0704,
  sePrepayment: 0x0705,
  seSubGhz: 0x070b,
} as const;
