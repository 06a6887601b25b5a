// The start-up benchmark's comparison: a bare fastify server with @fastify/websocket that
// answers a subscribe with a snapshot, started the same ways as the hub (bundled, and through tsx).
import websocket from "@fastify/websocket";
import Fastify from "fastify";

export async function startBareFastify(): Promise<{ url: string; close: () => Promise<void> }> {
  const app = Fastify({ logger: false });
  await app.register(websocket);
  const snapshot = JSON.stringify({ type: "snapshot", topic: "context", epoch: "bare", version: 0, data: {} });
  app.get("/ws", { websocket: true }, (socket) => {
    socket.on("message", () => socket.send(snapshot));
  });
  const address = await app.listen({ host: "127.0.0.1", port: 0 });
  return { url: address, close: () => app.close() };
}

if (process.argv[1] === import.meta.filename) {
  void startBareFastify().then(({ url }) => process.stdout.write(`bare fastify: listening on ${url}\n`));
}
