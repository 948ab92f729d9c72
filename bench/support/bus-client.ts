/**
 * A device process for the bus throughput benchmark: registers over WebSocket, transmits a
 * 60-byte frame in its own TDMA slot every 100 ms of virtual time, counts what it hears.
 * argv: url index frames
 */
import { MILLISECOND } from '@gbhan/clock';
import { BusRadio, WebSocketTransport } from '@gbhan/radio-bus';

const [url, indexArg, framesArg] = process.argv.slice(2);
const index = Number(indexArg);
const frames = Number(framesArg);
const radio = await BusRadio.connect(new WebSocketTransport(url!), {
  eui64: (0x1000 + index).toString(16).padStart(16, '0'),
  band: '2.4GHz',
  page: 0,
  channel: 20,
  position: { x: index % 5, y: Math.floor(index / 5) },
});
let heard = 0;
radio.onReceive(() => {
  heard++;
});
const psdu = new Uint8Array(60).fill(index);
let sent = 0;
const send = () => {
  void radio.transmit(psdu);
  if (++sent < frames) radio.clock.setTimer(100 * MILLISECOND, send);
};
radio.clock.setTimerAt(index * 5 * MILLISECOND + MILLISECOND, send);
radio.onClose(() => {
  process.stdout.write(`${JSON.stringify({ index, heard })}\n`);
  process.exit(0);
});
