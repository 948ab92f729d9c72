/**
 * The device packages' kinds scenarios can use: one line per kind. A new device type is its
 * package (exporting a `DeviceKind`) and a line here; its trace events join the catalogue.
 */
import { attackerKind } from '@gbhan/attacker/kind';
import { commsHubKind } from '@gbhan/comms-hub/kind';
import { headEndKind } from '@gbhan/head-end/kind';
import { hhtKind } from '@gbhan/hht/kind';
import { esmeKind, gsmeKind } from '@gbhan/meter/kind';
import { ppmidKind } from '@gbhan/ppmid/kind';

export const DEVICE_KINDS = [
  commsHubKind,
  esmeKind,
  gsmeKind,
  ppmidKind,
  hhtKind,
  attackerKind,
  headEndKind,
] as const;
