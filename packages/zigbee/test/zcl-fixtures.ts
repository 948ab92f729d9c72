/**
 * One sample payload for every Smart Energy command this package adds, shared by the round-trip
 * and tshark tests. Values are ordinary GB-ish numbers (GBP 826, tunnel 0x0001, ...).
 */
import { readFileSync } from 'node:fs';
import { encodeDebtCreditStatus, encodeDebtLog, encodeTopUpLog } from '../src/zcl/prepayment.js';
import { GB_HGRP_REQUEST_TUNNEL, packTunnelProtocol } from '../src/zcl/tunneling.js';
import type { ZclDirection, ZclPayload } from '../src/zcl/zcl.js';

export interface CommandSample {
  cluster: number;
  clusterName: string;
  command: string;
  commandId: number;
  direction: ZclDirection;
  payload: ZclPayload;
}

const hex = (s: string) => Uint8Array.from(Buffer.from(s, 'hex'));
const ascii = (s: string) => Uint8Array.from(Buffer.from(s, 'ascii'));

interface AnnexCParty {
  eui64: string;
  certificate: string;
  ephemeralPublicKey: string;
}
interface AnnexCSuite {
  suite: number;
  certLength: number;
  initiator: AnnexCParty;
  responder: AnnexCParty;
  keyData: string;
  macU: string;
  macV: string;
}
export const annexC = JSON.parse(
  readFileSync(new URL('../../cbke/test/vectors/cbke-annex-c.json', import.meta.url), 'utf8'),
) as { suites: AnnexCSuite[] };

export function suiteVectors(suite: 1 | 2) {
  const s = annexC.suites.find((x) => x.suite === suite)!;
  return {
    ...s,
    certU: hex(s.initiator.certificate),
    certV: hex(s.responder.certificate),
    qeu: hex(s.initiator.ephemeralPublicKey),
    qev: hex(s.responder.ephemeralPublicKey),
    macUBytes: hex(s.macU),
    macVBytes: hex(s.macV),
  };
}

const s2 = suiteVectors(2);
const c2s: ZclDirection = 'clientToServer';
const s2c: ZclDirection = 'serverToClient';

export const SAMPLES: CommandSample[] = [
  // Key Establishment 0x0800
  {
    cluster: 0x0800,
    clusterName: 'keyEstablishment',
    command: 'initiateKeyEstablishmentRequest',
    commandId: 0,
    direction: c2s,
    payload: {
      keyEstablishmentSuite: 2,
      ephemeralDataGenerateTime: 11,
      confirmKeyGenerateTime: 16,
      identity: s2.certU,
    },
  },
  {
    cluster: 0x0800,
    clusterName: 'keyEstablishment',
    command: 'initiateKeyEstablishmentResponse',
    commandId: 0,
    direction: s2c,
    payload: {
      keyEstablishmentSuite: 2,
      ephemeralDataGenerateTime: 11,
      confirmKeyGenerateTime: 16,
      identity: s2.certV,
    },
  },
  {
    cluster: 0x0800,
    clusterName: 'keyEstablishment',
    command: 'ephemeralDataRequest',
    commandId: 1,
    direction: c2s,
    payload: { ephemeralData: s2.qeu },
  },
  {
    cluster: 0x0800,
    clusterName: 'keyEstablishment',
    command: 'ephemeralDataResponse',
    commandId: 1,
    direction: s2c,
    payload: { ephemeralData: s2.qev },
  },
  {
    cluster: 0x0800,
    clusterName: 'keyEstablishment',
    command: 'confirmKeyDataRequest',
    commandId: 2,
    direction: c2s,
    payload: { secureMessageAuthenticationCode: s2.macUBytes },
  },
  {
    cluster: 0x0800,
    clusterName: 'keyEstablishment',
    command: 'confirmKeyDataResponse',
    commandId: 2,
    direction: s2c,
    payload: { secureMessageAuthenticationCode: s2.macVBytes },
  },
  {
    cluster: 0x0800,
    clusterName: 'keyEstablishment',
    command: 'terminateKeyEstablishment',
    commandId: 3,
    direction: c2s,
    payload: { statusCode: 3, waitTime: 30, keyEstablishmentSuite: 2 },
  },
  {
    cluster: 0x0800,
    clusterName: 'keyEstablishment',
    command: 'terminateKeyEstablishment',
    commandId: 3,
    direction: s2c,
    payload: { statusCode: 5, waitTime: 30, keyEstablishmentSuite: 1 },
  },
  // Price 0x0700
  {
    cluster: 0x0700,
    clusterName: 'sePrice',
    command: 'getCurrentPrice',
    commandId: 0,
    direction: c2s,
    payload: { commandOptions: 0x01 },
  },
  {
    cluster: 0x0700,
    clusterName: 'sePrice',
    command: 'getScheduledPrices',
    commandId: 1,
    direction: c2s,
    payload: { startTime: 0x2d000000, numberOfEvents: 5 },
  },
  {
    cluster: 0x0700,
    clusterName: 'sePrice',
    command: 'publishPrice',
    commandId: 0,
    direction: s2c,
    payload: {
      providerId: 0x00000001,
      rateLabel: ascii('Standard'),
      issuerEventId: 0x12345678,
      currentTime: 0x2d000000,
      unitOfMeasure: 0x00,
      currency: 826,
      priceTrailingDigitAndPriceTier: 0x51,
      numberOfPriceTiersAndRegisterTier: 0x11,
      startTime: 0,
      durationInMinutes: 0xffff,
      price: 2850,
      priceRatio: 0xff,
      generationPrice: 0xffffffff,
      generationPriceRatio: 0xff,
      alternateCostDelivered: 0xffffffff,
      alternateCostUnit: 0xff,
      alternateCostTrailingDigit: 0xff,
      numberOfBlockThresholds: 0,
      priceControl: 0x00,
      numberOfGenerationTiers: 0,
      generationTier: 0,
      extendedNumberOfPriceTiers: 0,
      extendedPriceTier: 0,
      extendedRegisterTier: 0,
    },
  },
  // Messaging 0x0703
  {
    cluster: 0x0703,
    clusterName: 'seMessaging',
    command: 'displayMessage',
    commandId: 0,
    direction: s2c,
    payload: {
      messageId: 42,
      messageControl: 0x80,
      startTime: 0,
      durationInMinutes: 60,
      message: 'Low credit',
      extendedMessageControl: 0x00,
    },
  },
  {
    cluster: 0x0703,
    clusterName: 'seMessaging',
    command: 'cancelMessage',
    commandId: 1,
    direction: s2c,
    payload: { messageId: 42, messageControl: 0x00 },
  },
  {
    cluster: 0x0703,
    clusterName: 'seMessaging',
    command: 'messageConfirmation',
    commandId: 1,
    direction: c2s,
    payload: { messageId: 42, confirmationTime: 0x2d000010 },
  },
  {
    cluster: 0x0703,
    clusterName: 'seMessaging',
    command: 'messageConfirmation',
    commandId: 1,
    direction: c2s,
    // SE 1.2+ form with the confirmation control and a response
    payload: {
      messageId: 43,
      confirmationTime: 0x2d000020,
      messageConfirmationControl: 0x01,
      messageResponse: ascii('Yes'),
    },
  },
  // Prepayment 0x0705
  {
    cluster: 0x0705,
    clusterName: 'sePrepayment',
    command: 'selectAvailableEmergencyCredit',
    commandId: 0x00,
    direction: c2s,
    payload: { commandIssueDateTime: 0x2d000000, originatingDevice: 2 },
  },
  {
    cluster: 0x0705,
    clusterName: 'sePrepayment',
    command: 'consumerTopUp',
    commandId: 0x04,
    direction: c2s,
    payload: { originatingDevice: 2, topUpCode: ascii('12345678901234567890') },
  },
  {
    cluster: 0x0705,
    clusterName: 'sePrepayment',
    command: 'getPrepaySnapshot',
    commandId: 0x07,
    direction: c2s,
    payload: {
      earliestStartTime: 0,
      latestEndTime: 0xffffffff,
      snapshotOffset: 0,
      snapshotCause: 0xffffffff,
    },
  },
  {
    cluster: 0x0705,
    clusterName: 'sePrepayment',
    command: 'getTopUpLog',
    commandId: 0x08,
    direction: c2s,
    payload: { latestEndTime: 0xffffffff, numberOfRecords: 5 },
  },
  {
    cluster: 0x0705,
    clusterName: 'sePrepayment',
    command: 'getDebtRepaymentLog',
    commandId: 0x0a,
    direction: c2s,
    payload: { latestEndTime: 0xffffffff, numberOfDebts: 5, debtType: 0xff },
  },
  {
    cluster: 0x0705,
    clusterName: 'sePrepayment',
    command: 'publishPrepaySnapshot',
    commandId: 0x01,
    direction: s2c,
    payload: {
      snapshotId: 7,
      snapshotTime: 0x2d000000,
      totalSnapshotsFound: 1,
      commandIndex: 0,
      totalNumberOfCommands: 1,
      snapshotCause: 0x00000001,
      snapshotPayloadType: 0,
      snapshotPayload: encodeDebtCreditStatus({
        accumulatedDebt: 1000,
        type1DebtRemaining: 500,
        type2DebtRemaining: 300,
        type3DebtRemaining: 200,
        emergencyCreditRemaining: 500,
        creditRemaining: -250,
      }),
    },
  },
  {
    cluster: 0x0705,
    clusterName: 'sePrepayment',
    command: 'consumerTopUpResponse',
    commandId: 0x03,
    direction: s2c,
    payload: { resultType: 0, topUpValue: 2000, sourceOfTopUp: 2, creditRemaining: 1750 },
  },
  {
    cluster: 0x0705,
    clusterName: 'sePrepayment',
    command: 'publishTopUpLog',
    commandId: 0x05,
    direction: s2c,
    payload: {
      commandIndex: 0,
      totalNumberOfCommands: 1,
      topUpPayload: encodeTopUpLog([
        { topUpCode: ascii('12345678901234567890'), topUpAmount: 2000, topUpTime: 0x2d000000 },
        { topUpCode: ascii('09876543210987654321'), topUpAmount: 1000, topUpTime: 0x2d001000 },
      ]),
    },
  },
  {
    cluster: 0x0705,
    clusterName: 'sePrepayment',
    command: 'publishDebtLog',
    commandId: 0x06,
    direction: s2c,
    payload: {
      commandIndex: 0,
      totalNumberOfCommands: 1,
      debtPayload: encodeDebtLog([
        { collectionTime: 0x2d000000, amountCollected: 100, debtType: 0, outstandingDebt: 900 },
        { collectionTime: 0x2d010000, amountCollected: 50, debtType: 1, outstandingDebt: 250 },
      ]),
    },
  },
  // Sub-GHz 0x070B
  {
    cluster: 0x070b,
    clusterName: 'seSubGhz',
    command: 'getSuspendZclMessagesStatus',
    commandId: 0x00,
    direction: c2s,
    payload: {},
  },
  {
    cluster: 0x070b,
    clusterName: 'seSubGhz',
    command: 'suspendZclMessages',
    commandId: 0x00,
    direction: s2c,
    payload: { period: 30 },
  },
  // Tunneling 0x0704
  {
    cluster: 0x0704,
    clusterName: 'seTunneling',
    command: 'requestTunnel',
    commandId: 0x00,
    direction: c2s,
    payload: { ...GB_HGRP_REQUEST_TUNNEL },
  },
  {
    cluster: 0x0704,
    clusterName: 'seTunneling',
    command: 'closeTunnel',
    commandId: 0x01,
    direction: c2s,
    payload: { tunnelId: 1 },
  },
  {
    cluster: 0x0704,
    clusterName: 'seTunneling',
    command: 'transferData',
    commandId: 0x02,
    direction: c2s,
    payload: { tunnelId: 1, data: hex('01dd00000000000000000102') },
  },
  {
    cluster: 0x0704,
    clusterName: 'seTunneling',
    command: 'transferDataError',
    commandId: 0x03,
    direction: c2s,
    payload: { tunnelId: 1, status: 2 },
  },
  {
    cluster: 0x0704,
    clusterName: 'seTunneling',
    command: 'ackTransferData',
    commandId: 0x04,
    direction: c2s,
    payload: { tunnelId: 1, numberOfBytesLeft: 1500 },
  },
  {
    cluster: 0x0704,
    clusterName: 'seTunneling',
    command: 'readyData',
    commandId: 0x05,
    direction: c2s,
    payload: { tunnelId: 1, numberOfOctetsLeft: 1500 },
  },
  {
    cluster: 0x0704,
    clusterName: 'seTunneling',
    command: 'getSupportedTunnelProtocols',
    commandId: 0x06,
    direction: c2s,
    payload: { protocolOffset: 0 },
  },
  {
    cluster: 0x0704,
    clusterName: 'seTunneling',
    command: 'requestTunnelRsp',
    commandId: 0x00,
    direction: s2c,
    payload: { tunnelId: 1, status: 0, maxIncomingTransferSize: 1500 },
  },
  {
    cluster: 0x0704,
    clusterName: 'seTunneling',
    command: 'transferData',
    commandId: 0x01,
    direction: s2c,
    payload: { tunnelId: 1, data: hex('02dd0000000000000000') },
  },
  {
    cluster: 0x0704,
    clusterName: 'seTunneling',
    command: 'transferDataError',
    commandId: 0x02,
    direction: s2c,
    payload: { tunnelId: 1, status: 0 },
  },
  {
    cluster: 0x0704,
    clusterName: 'seTunneling',
    command: 'ackTransferData',
    commandId: 0x03,
    direction: s2c,
    payload: { tunnelId: 1, numberOfBytesLeft: 0 },
  },
  {
    cluster: 0x0704,
    clusterName: 'seTunneling',
    command: 'readyData',
    commandId: 0x04,
    direction: s2c,
    payload: { tunnelId: 1, numberOfOctetsLeft: 1500 },
  },
  {
    cluster: 0x0704,
    clusterName: 'seTunneling',
    command: 'supportedProtocolsRsp',
    commandId: 0x05,
    direction: s2c,
    payload: {
      listComplete: 1,
      count: 2,
      protocolList: [
        packTunnelProtocol({ manufacturerCode: 0xffff, protocolId: 6 }),
        packTunnelProtocol({ manufacturerCode: 0x1002, protocolId: 200 }),
      ],
    },
  },
  {
    cluster: 0x0704,
    clusterName: 'seTunneling',
    command: 'closureNotification',
    commandId: 0x06,
    direction: s2c,
    payload: { tunnelId: 1 },
  },
];
