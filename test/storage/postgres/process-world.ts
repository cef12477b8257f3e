/**
 * The set-up shared by the multi-process suites: a store on the real server with the fixture
 * world on a fresh schema, and keyward instances in their own OS processes on that schema.
 */
import { world, type World } from "../../core/fixture.js";
import { spawnInstance, type Instance } from "./processes.js";
import { PG_URL, serverStore } from "./support.js";

/** The server store, the world on it, the instances (in the order of their names), and a close that ends them all. */
export interface ProcessWorld {
  server: Awaited<ReturnType<typeof serverStore>>;
  w: World;
  instances: Instance[];
  close(): Promise<void>;
}

/**
 * Builds the world on the server and spawns one instance per name (`env(name)` adds to its
 * environment). The world's clock is set to the real time: the instances decide on the
 * database's clock, so tokens are created at the real time.
 *
 * @example
 * ```ts
 * const pw = await processWorld(["kw-A", "kw-B"], () => ({ KW_CACHE: "0" }));
 * const [a, b] = pw.instances;
 * await pw.close();
 * ```
 */
export async function processWorld(names: string[], env: (name: string) => Record<string, string> = () => ({})): Promise<ProcessWorld> {
  const server = await serverStore();
  const w = await world({ store: server.store });
  w.clock.now = Date.now();
  const instances = await Promise.all(names.map((name) => spawnInstance(PG_URL!, server.schema, name, env(name))));
  return {
    server,
    w,
    instances,
    async close() {
      await Promise.all(instances.map((i) => i.close()));
      await server.cleanup();
    },
  };
}
