/**
 * `ZigbeeNode` and its public types, where they have always been imported from; the node
 * itself lives in `node/`, a file per layer (see the README's layout table).
 */
export type { Beacon, ChannelSpec, JoinResult, NodeRole, ZigbeeNodeConfig } from './node/config.js';
export { ZigbeeNode } from './node/zigbee-node.js';
