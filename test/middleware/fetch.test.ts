/** keyward/fetch: the shared HTTP table over a real loopback socket. */
import { startFetch } from "./apps.js";
import { httpTable } from "./table.js";

httpTable("fetch", startFetch);
