/**
 * Real servers on loopback ports for the HTTP tests: one `listen()` for `node:http` servers, and
 * the example inspections API started on each framework.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { getRequestListener } from "@hono/node-server";
import { createInspectionsApp } from "../../examples/inspections-api/app.js";
import { createInspectionsFastify } from "../../examples/inspections-api/fastify.js";
import { createInspectionsHono } from "../../examples/inspections-api/hono.js";
import type { InspectionsDb, InspectionsKeyward } from "../../examples/inspections-api/seed.js";

/** A server listening on a loopback port, and how to stop it (open keep-alive connections too). */
export interface Running {
  url: string;
  close(): Promise<void>;
}

/** Starts `server` on a free loopback port. */
export function listen(server: Server): Promise<Running> {
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () =>
      resolve({
        url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        close: () =>
          new Promise<void>((done) => {
            server.closeAllConnections();
            server.close(() => done());
          }),
      }),
    ),
  );
}

/** The example inspections API (`examples/inspections-api`) on each framework, over real sockets. */
export const exampleStarters = {
  express: async (s: { kw: InspectionsKeyward; db: InspectionsDb }): Promise<Running> => listen(createServer(createInspectionsApp(s.kw, s.db))),
  fastify: async (s: { kw: InspectionsKeyward; db: InspectionsDb }): Promise<Running> => {
    const app = await createInspectionsFastify(s.kw, s.db);
    await app.listen({ port: 0, host: "127.0.0.1" });
    return { url: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`, close: () => app.close() };
  },
  hono: async (s: { kw: InspectionsKeyward; db: InspectionsDb }): Promise<Running> =>
    listen(createServer(getRequestListener(createInspectionsHono(s.kw, s.db).fetch))),
};
