// A TCP proxy in front of a server, for the browser tests: it can stop passing on what the server
// sends once some text comes, and then cut the connection, as a network (or a proxy's idle timeout)
// would drop it.
import { connect, createServer, type Server, type Socket } from 'node:net';

export interface TcpProxy {
  url: string;
  /**
   * Watches for the connection whose server sends `text` next: the client gets the server-sent events
   * before the one holding it, nothing more. Resolves with the function that cuts that connection.
   */
  holdWhenServerSends(text: string): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

export async function startTcpProxy(target: string): Promise<TcpProxy> {
  const { hostname, port } = new URL(target);
  const sockets = new Set<Socket>();
  let trigger: { text: string; held: (cut: () => Promise<void>) => void } | undefined;
  const server: Server = createServer((client) => {
    const upstream = connect(Number(port), hostname);
    sockets.add(client).add(upstream);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('data', (chunk) => upstream.write(chunk));
    // The server's last bytes, for a `text` split between two reads.
    let carry = Buffer.alloc(0);
    let holding = false;
    upstream.on('data', (chunk: Buffer) => {
      if (holding) return;
      const seen = Buffer.concat([carry, chunk]);
      const at = trigger ? seen.indexOf(trigger.text) : -1;
      if (trigger && at >= 0) {
        const { held } = trigger;
        trigger = undefined;
        holding = true;
        const end = seen.lastIndexOf('\n\n', at);
        client.write(chunk.subarray(0, end < 0 ? 0 : Math.max(0, end + 2 - carry.length)));
        // Ended mid-response: the client sees a connection that dropped.
        held(
          () =>
            new Promise<void>((resolve) => {
              upstream.destroy();
              client.end(() => {
                drop();
                resolve();
              });
            }),
        );
        return;
      }
      carry = seen.subarray(Math.max(0, seen.length - 256));
      client.write(chunk);
    });
    upstream.on('close', () => {
      if (!holding) drop();
    });
    client.on('close', drop);
    client.on('error', drop);
    upstream.on('error', () => {
      if (!holding) drop();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the proxy has no port');
  return {
    url: `http://127.0.0.1:${address.port}`,
    holdWhenServerSends: (text) =>
      new Promise((resolve) => {
        trigger = { text, held: resolve };
      }),
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
