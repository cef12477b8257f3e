/** keyward/hono: the shared HTTP table over a real loopback socket. */
import { startHono } from "./apps.js";
import { httpTable } from "./table.js";

httpTable("hono", startHono);
