/**
 * zigbee-herdsman's ZCL layer, loaded alone. Importing the package root pulls in the serial
 * port binding; `dist/zspec/zcl` is the frame/buffalo/definition code only (protocol-notes
 * §12). herdsman is CommonJS, so it is loaded with `createRequire` and typed through a
 * require-mode type import.
 */
import { createRequire } from 'node:module';

// biome-ignore format: biome cannot parse the trailing comma it would add to import attributes
type HerdsmanZcl = typeof import('zigbee-herdsman/dist/zspec/zcl', { with: { 'resolution-mode': 'require' } });

export type Cluster = ReturnType<HerdsmanZcl['Utils']['getCluster']>;
export type Command = ReturnType<HerdsmanZcl['Utils']['getClusterCommand']>;
export type Parameter = Command['parameters'][number];
export type CustomClusters = NonNullable<Parameters<HerdsmanZcl['Utils']['getCluster']>[2]>;
/** herdsman's ZCL reader/writer (buffaloZcl.ts), typed through the foundation writers that take one. */
export type BuffaloZclInstance = Parameters<HerdsmanZcl['Foundation']['read']['write']>[0];

const require = createRequire(import.meta.url);

export const Zcl: HerdsmanZcl = require('zigbee-herdsman/dist/zspec/zcl');
export const {
  BuffaloZcl,
}: {
  BuffaloZcl: new (buffer: Buffer, position?: number) => BuffaloZclInstance;
} = require('zigbee-herdsman/dist/zspec/zcl/buffaloZcl');
export const { DataType, BuffaloZclDataType, Direction, FrameType, ParameterCondition } = Zcl;
