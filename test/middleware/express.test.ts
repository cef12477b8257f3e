/** keyward/express: the shared HTTP table over a real loopback socket. */
import { startExpress } from "./apps.js";
import { httpTable } from "./table.js";

httpTable("express", startExpress);
