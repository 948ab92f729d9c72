/**
 * Baseline client: plain ws, no bus. Sends `frames` tx-sized JSON messages as fast as the
 * socket takes them and counts the broadcasts it receives. argv: url index frames expected
 */
import WebSocket from 'ws';

const [url, indexArg, framesArg, expectedArg] = process.argv.slice(2);
const index = Number(indexArg);
const frames = Number(framesArg);
const expected = Number(expectedArg);
const ws = new WebSocket(url!, { perMessageDeflate: false });
const msg = JSON.stringify({ type: 'tx', id: 0, psdu: Buffer.alloc(60, index).toString('base64') });
let heard = 0;
ws.on('message', (d) => {
  const text = d.toString();
  if (text === 'go') {
    for (let i = 0; i < frames; i++) ws.send(msg);
    return;
  }
  JSON.parse(text);
  if (++heard === expected) ws.send('done');
});
ws.on('close', () => process.exit(0));
