/** keyward/fastify: the shared HTTP table over a real loopback socket. */
import { startFastify } from "./apps.js";
import { httpTable } from "./table.js";

httpTable("fastify", startFastify);
