/**
 * The one adapter from a device package's `DeviceKind` (@gbhan/stack) to the runner's device
 * type: the loader checks `config` and each action's `args` against the kind's schemas, and
 * in-process and process runs build the device with the same code (`startKindDevice`), only
 * the transport and the NVM differ, so their traces cannot drift apart.
 */
import { actionArgs, type DeviceKind, type KindDevice, runKindProcess, startKindDevice } from '@gbhan/stack';
import type { DeviceTypeDefinition } from './registry.js';

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
    async create(ctx) {
      const { MemoryNvStore, FileNvStore } = await import('@gbhan/stack');
      const nvm = ctx.nvm ?? (ctx.statePath === null ? new MemoryNvStore() : new FileNvStore(ctx.statePath));
      const { device } = await startKindDevice(kind, ctx, ctx.transport, nvm);
      return { close: () => device.close() };
    },
    runProcess: (argv, transport) => runKindProcess(kind, argv, transport),
  };
}
