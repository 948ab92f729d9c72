/**
 * The device types scenarios can use: the device packages' kinds (listed in kinds.ts, each
 * through the one adapter `kindType`) and the scenario's own plain radio.
 */

import { kindType } from './kind-adapter.js';
import { DEVICE_KINDS } from './kinds.js';
import {
  createRadioDevice,
  RADIO_ACTIONS,
  RadioConfigSchema,
  RadioSpecConfigSchema,
  runRadioProcess,
} from './radio-device.js';
import { registerDeviceType } from './registry.js';

for (const kind of DEVICE_KINDS) registerDeviceType(kind.type, kindType(kind));

registerDeviceType('radio', {
  description: 'a plain 802.15.4 radio sending MAC frames on a schedule (air demos, neighbours)',
  configSchema: RadioConfigSchema,
  actions: RADIO_ACTIONS,
  create: createRadioDevice,
  runProcess: runRadioProcess,
  specConfigSchema: RadioSpecConfigSchema,
});
