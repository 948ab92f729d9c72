/**
 * Every helper of @gbhan/testing. This entry imports @gbhan/stack (the recording host) and
 * @gbhan/runtime (the test certificates), so only tests of runtime and the packages above it
 * may import it; tests of clock, radio-bus, zigbee, cbke and stack take a subpath instead: `@gbhan/testing/tshark` and
 * `@gbhan/testing/cli` import nothing of gbhan, `@gbhan/testing/real-bus` only
 * @gbhan/radio-bus (test/layering.test.ts checks this).
 */
export * from './application-host-double.js';
export * from './cli.js';
export * from './gb-credentials.js';
export * from './real-bus.js';
export * from './tshark.js';
