/**
 * A device process for the bus throughput benchmark (bench-radio.ts over WebSocket).
 * argv: url index frames
 */
import { WebSocketTransport } from '@gbhan/radio-bus';
import { benchRadio } from './bench-radio.js';

const [url, indexArg, framesArg] = process.argv.slice(2);
const index = Number(indexArg);
const heard = await benchRadio(new WebSocketTransport(url!), index, Number(framesArg));
process.stdout.write(`${JSON.stringify({ index, heard })}\n`);
process.exit(0);
