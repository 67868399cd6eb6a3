import net from "node:net";

/**
 * Returns a TCP port on 127.0.0.1 that was free a moment ago.
 *
 * The OS picks it (bind to port 0) and we read it back, so parallel test runs never
 * collide on a hard-coded port. There is a small race between closing this probe and
 * the caller binding the port; callers that spawn a server retry on "address in use".
 *
 * @example
 * const port = await freePort(); // e.g. 41523
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.unref();
    probe.once("error", reject);
    probe.listen({ port: 0, host: "127.0.0.1", exclusive: true }, () => {
      const address = probe.address();
      if (address === null || typeof address === "string") {
        probe.close();
        reject(new Error("freePort: could not read back the bound port"));
        return;
      }
      probe.close((err) => (err ? reject(err) : resolve(address.port)));
    });
  });
}
