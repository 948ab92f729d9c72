/**
 * Key Establishment cluster 0x0800 (ZigBee SE 1.4 §C.3.1) as typed messages. The CBKE state
 * machines (packages/cbke) speak these; `key-establishment.ts` maps them to and from ZCL
 * frames. Field names follow the spec.
 */

export const KEY_ESTABLISHMENT_CLUSTER = 0x0800;

/** Attribute 0x0000 KeyEstablishmentSuite bitmap bits and the values a command names. */
export const KeyEstablishmentSuite = {
  /** Crypto suite 1: sect163k1, 48-byte implicit certificates. */
  CBKE_ECMQV_163: 0x0001,
  /** Crypto suite 2: sect283k1, 74-byte implicit certificates (what GB uses). */
  CBKE_ECMQV_283: 0x0002,
} as const;

/** Terminate Key Establishment status values (SE 1.4 Table C-10). */
export const TerminateStatus = {
  UnknownIssuer: 0x01,
  BadKeyConfirm: 0x02,
  BadMessage: 0x03,
  NoResources: 0x04,
  UnsupportedSuite: 0x05,
  InvalidCertificate: 0x06,
} as const;
export type TerminateStatus = (typeof TerminateStatus)[keyof typeof TerminateStatus];

/** Command ids; the same numbers are used client->server (requests) and server->client (responses). */
export const KeyEstablishmentCommandId = {
  InitiateKeyEstablishment: 0x00,
  EphemeralData: 0x01,
  ConfirmKeyData: 0x02,
  TerminateKeyEstablishment: 0x03,
} as const;

export type KeyEstablishmentMessage =
  | {
      command: 'InitiateKeyEstablishment';
      /** request = client->server (initiator), response = server->client (responder). */
      direction: 'request' | 'response';
      suite: number;
      ephemeralDataGenerateTime: number;
      confirmKeyGenerateTime: number;
      /** Implicit certificate: 48 bytes (suite 1) or 74 bytes (suite 2). */
      identity: Uint8Array;
    }
  | {
      command: 'EphemeralData';
      direction: 'request' | 'response';
      /** Compressed ephemeral public key: 22 bytes (suite 1) or 37 bytes (suite 2). */
      ephemeralData: Uint8Array;
    }
  | {
      command: 'ConfirmKeyData';
      direction: 'request' | 'response';
      /** MACU (request) or MACV (response), 16 bytes. */
      secureMessageAuthenticationCode: Uint8Array;
    }
  | {
      command: 'TerminateKeyEstablishment';
      direction: 'request' | 'response';
      statusCode: TerminateStatus;
      /** Seconds the peer should wait before trying again. */
      waitTime: number;
      suite: number;
    };
