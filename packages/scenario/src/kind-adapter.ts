/**
 * The one adapter from a device package's `DeviceKind` (@gbhan/stack) to the runner's device
 * type: the loader checks `config` and each action's `args` against the kind's schemas, and
 * in-process and process runs build the device with the same code (`startKindDevice`), only
 * the transport and the NVM differ, so their traces cannot drift apart.
 */
import {
  actionArgs,
  commonConfig,
  type DeviceKind,
  installCode,
  type KindDevice,
  runKindProcess,
  startKindDevice,
} from '@gbhan/stack';
import { z } from 'zod';
import type { DeviceTypeDefinition } from './registry.js';

const eui64 = z.string().regex(/^[0-9a-f]{16}$/, 'EUI64 as 16 lowercase hex digits');

/**
 * The `config` of a `gbhan device <kind> --spec`, in the form the loader resolves it to (what
 * `gbhan run --processes` passes): the fields every kind shares are checked here (channels,
 * CBKE suite and timing, install code, a CH's Device Log entries), and by convention every
 * `<name>Us` is whole microseconds (or `unlimited`) and every `<name>Eui64` an EUI64. A kind's other fields are
 * its own (packages/<kind>/README.md). Without this a wrong field surfaced as a TypeError deep
 * in the stack once time ran (issue 18); now it is one line naming the field, exit 2.
 */
export const KIND_SPEC_CONFIG = z
  .looseObject({
    ...commonConfig,
    installCode: installCode.optional(),
    deviceLog: z.array(z.strictObject({ eui64, deviceType: z.string().min(1), installCode })).optional(),
  })
  .superRefine((config, ctx) => {
    for (const [k, v] of Object.entries(config)) {
      if (k.endsWith('Us') && !((Number.isInteger(v) && (v as number) >= 0) || v === 'unlimited'))
        ctx.addIssue({
          code: 'custom',
          path: [k],
          message: 'whole microseconds >= 0 or "unlimited" (resolved form)',
        });
      if (k.endsWith('Eui64') && !(typeof v === 'string' && /^[0-9a-f]{16}$/.test(v)))
        ctx.addIssue({
          code: 'custom',
          path: [k],
          message: 'an EUI64: 16 lowercase hex digits (resolved form)',
        });
    }
  });

// biome-ignore lint/suspicious/noExplicitAny: kinds differ in their config and device types.
export function kindType(kind: DeviceKind<any, KindDevice>): DeviceTypeDefinition {
  return {
    description: kind.description,
    ...(kind.gbType !== undefined ? { gbType: kind.gbType } : {}),
    configSchema: kind.config,
    actions: actionArgs(kind),
    ...(kind.resolveConfig ? { resolveConfig: kind.resolveConfig } : {}),
    ...(kind.prepareCommand ? { prepareCommand: kind.prepareCommand } : {}),
    ...(kind.usesManufacturerKey ? { usesManufacturerKey: true } : {}),
    ...(kind.processOptions ? { processOptions: kind.processOptions } : {}),
    specConfigSchema: KIND_SPEC_CONFIG,
    async create(ctx) {
      const { MemoryNvStore, FileNvStore } = await import('@gbhan/stack');
      const nvm = ctx.nvm ?? (ctx.statePath === null ? new MemoryNvStore() : new FileNvStore(ctx.statePath));
      const { device } = await startKindDevice(kind, ctx, ctx.transport, nvm);
      return { close: () => device.close() };
    },
    runProcess: (argv, transport) => runKindProcess(kind, argv, transport),
  };
}
