/**
 * The device types scenarios can use. Each is one `registerDeviceType` call: a config
 * schema, its actions (with argument schemas), an in-process factory and a process entry.
 */

import { registerDevicePackages } from './device-packages.js';
import {
  createRadioDevice,
  RADIO_ACTIONS,
  RadioConfigSchema,
  RadioSpecConfigSchema,
  runRadioProcess,
} from './radio-device.js';
import { registerDeviceType } from './registry.js';

registerDeviceType('radio', {
  description: 'a plain 802.15.4 radio sending MAC frames on a schedule (air demos, neighbours)',
  configSchema: RadioConfigSchema,
  actions: RADIO_ACTIONS,
  create: createRadioDevice,
  runProcess: runRadioProcess,
  specConfigSchema: RadioSpecConfigSchema,
});

registerDevicePackages();
