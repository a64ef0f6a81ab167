import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/*
 * Why not `listen(0)`: the kernel hands out those ports from the ephemeral
 * range, which is also where every outgoing connection (to Postgres, to NATS,
 * from the other jest worker) takes its local port. Between "this port is
 * free" and the child process binding it, one of those connections can take
 * it, and the child dies with EADDRINUSE (seen in CI). Ports below the
 * ephemeral range are never given to outgoing connections, and each jest
 * worker takes its own slice of them, so the two workers never pick the same.
 */

const SLICES = 8;

function usableRange(): { low: number; high: number } {
  let ephemeralLow = 32768;
  let ephemeralHigh = 60999;
  try {
    const [low, high] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    if (Number.isInteger(low) && Number.isInteger(high)) [ephemeralLow, ephemeralHigh] = [low, high];
  } catch {
    // not Linux: keep the kernel's default range
  }
  if (ephemeralLow - 1 - 15000 >= SLICES * 200) return { low: 15000, high: ephemeralLow - 1 };
  return { low: ephemeralHigh + 1, high: 65535 };
}

const range = usableRange();
const sliceSize = Math.floor((range.high - range.low + 1) / SLICES);
const worker = (Number(process.env.JEST_WORKER_ID ?? 1) - 1) % SLICES;
const sliceLow = range.low + worker * sliceSize;
// A random start, because jest gives each test file fresh modules: a counter
// alone would hand the next file in this worker the ports the last one used.
let next = Math.floor(Math.random() * sliceSize);

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '0.0.0.0', () => srv.close(() => resolve(true)));
  });
}

/** A port nothing listens on now and that no outgoing connection will take. */
export async function freePort(): Promise<number> {
  for (let tried = 0; tried < sliceSize; tried++) {
    const port = sliceLow + (next++ % sliceSize);
    if (await canListen(port)) return port;
  }
  throw new Error(`no free port in ${sliceLow}..${sliceLow + sliceSize - 1}`);
}
