/**
 * ZigBee SE Key Establishment (cluster 0x0800, ZSE Annex C.3 / C.4) as two explicit,
 * transport-independent state machines. They consume and produce the typed messages of
 * @gbhan/zigbee (`KeyEstablishmentMessage`); whoever owns the transport maps them to ZCL
 * frames and back, and tells us the peer's EUI64.
 *
 *   initiator (client, U)                         responder (server, V)
 *   Initiate KE Request (suite, times, cert) --->  check suite, certificate
 *                                            <---  Initiate KE Response (suite, times, cert)
 *   check certificate, make QEU
 *   Ephemeral Data Request (QEU)            --->  make QEV, Z, keys
 *                                            <---  Ephemeral Data Response (QEV)
 *   Z, keys, MACU
 *   Confirm Key Data Request (MACU)         --->  check MACU
 *                                            <---  Confirm Key Data Response (MACV)
 *   check MACV: link key = keyData                 link key = keyData
 *
 * Either side may end the exchange with Terminate Key Establishment (status, wait time).
 * All timing goes through the injected Clock: a side waits for the peer's next message for
 * the generate time the peer advertised plus a margin, and sends its own Ephemeral Data and
 * Confirm Key messages either after its own advertised generate time ('advertised') or at
 * once ('as-fast-as-computed'). The computation itself takes no virtual time.
 *
 * The roles share one core (key-establishment-party.ts: options, validation, crypto, and how an
 * exchange ends: abort + Terminate, timeout, Terminate from the peer); the initiator and the
 * responder (key-establishment-initiator.ts, -responder.ts) are only their message orders.
 */

export { type InitiatorState, KeyEstablishmentInitiator } from './key-establishment-initiator.js';
export {
  type Credentials,
  DEFAULT_CONFIRM_KEY_GENERATE_TIME,
  DEFAULT_EPHEMERAL_DATA_GENERATE_TIME,
  DEFAULT_TERMINATE_WAIT_TIME,
  DEFAULT_UNIX_EPOCH_SECONDS,
  type EstablishedKey,
  type KeyEstablishmentFailureReason,
  type KeyEstablishmentOptions,
  type KeyEstablishmentResult,
  type KeyEstablishmentTimeouts,
  type TimingMode,
} from './key-establishment-party.js';
export { KeyEstablishmentResponder, type ResponderState } from './key-establishment-responder.js';
