/**
 * Requests per second of each framework bare and with the keyward guard, measured in the same
 * run over loopback with keep-alive. Not a test: `npm run bench:middleware`.
 *
 * The servers run in a child process (so the load loop does not share their event loop); each
 * framework has a bare route and a guarded route with the same handler (look the row up, answer
 * a small JSON). Rounds alternate bare and guarded, and the ratio is the median of each round's
 * guarded/bare pair, so drift (other processes on the machine) hits both sides of a pair alike. The guarded route runs
 * the whole path: bearer extraction, the loader, `authorize()` on the memory store (parse,
 * SHA-256, one read, decide, use record), the activity event, and the decision on the request.
 *
 * Env: SECONDS per measurement (default 0.6), ROUNDS (8), CONCURRENCY (16).
 */
import { fork } from "node:child_process";
import { Agent, createServer, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";

const SECONDS = Number(process.env.SECONDS ?? 0.6);
const ROUNDS = Number(process.env.ROUNDS ?? 8);
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 16);
const USERS = 100;
const ITEMS = 1000;
const FRAMEWORKS = ["express", "fastify", "hono", "fetch"] as const;
type Framework = (typeof FRAMEWORKS)[number];

interface Ready {
  ports: Record<Framework, number>;
  /** Sent over the IPC channel only: never printed. */
  tokens: string[];
}

// ── the servers (child process) ───────────────────────────────────────────────────────────────
async function serve(): Promise<void> {
  const [{ guardWorld }, { keywardExpress }, { keywardFastify }, { keywardHono }, { keywardFetch }] = await Promise.all([
    import("./guard-world.js"),
    import("../src/middleware/express.js"),
    import("../src/middleware/fastify.js"),
    import("../src/middleware/hono.js"),
    import("../src/middleware/fetch.js"),
  ]);
  const { default: express } = await import("express");
  const { default: Fastify } = await import("fastify");
  const { Hono } = await import("hono");
  const { getRequestListener } = await import("@hono/node-server");

  const { kw, org, tokens, ids } = await guardWorld(USERS, ITEMS);
  const rows = new Map<string, { orgId: string; type: string; id: string; title: string }>();
  ids.forEach((id, i) => rows.set(id, { orgId: org.id, type: "inspection", id, title: `Inspection ${i}` }));
  const ref = (id: string | undefined) => {
    const r = id === undefined ? undefined : rows.get(id);
    return r ? { orgId: r.orgId, type: r.type, id: r.id } : null;
  };
  const body = (id: string | undefined, who: string) => ({ id, title: rows.get(id ?? "")?.title, who });
  const spec = { action: "inspections.view" as const };

  const listen = (s: Server) => new Promise<number>((ok) => s.listen(0, "127.0.0.1", () => ok((s.address() as AddressInfo).port)));

  const ex = express();
  const exGuard = keywardExpress(kw);
  ex.get("/bare/:id", (req, res) => void res.json(body(String(req.params.id), "anonymous")));
  ex.get("/guarded/:id", exGuard({ ...spec, item: ({ req }) => ref(String(req.params.id)) }), (req, res) => void res.json(body(String(req.params.id), res.locals.keyward!.subject.name)));

  const fa = Fastify();
  const faKw = keywardFastify(kw);
  await fa.register(faKw);
  const pid = (r: { params: unknown }) => (r.params as { id: string }).id;
  fa.get("/bare/:id", async (r) => body(pid(r), "anonymous"));
  fa.get("/guarded/:id", { preHandler: faKw.guard({ ...spec, item: (r) => ref(pid(r)) }) }, async (r) => body(pid(r), r.keyward!.subject.name));
  await fa.listen({ port: 0, host: "127.0.0.1" });

  const ho = new Hono();
  const hoGuard = keywardHono(kw);
  ho.get("/bare/:id", (c) => c.json(body(c.req.param("id"), "anonymous")));
  ho.get("/guarded/:id", hoGuard({ ...spec, item: (c) => ref(c.req.param("id")) }), (c) => c.json(body(c.req.param("id"), c.var.keyward.subject.name)));

  const fe = keywardFetch(kw);
  const guardedFetch = fe.protect({ ...spec, item: ({ params }) => ref(params.id), params: (request: Request) => ({ id: new URL(request.url).pathname.slice("/guarded/".length) }) }, (request, d) =>
    Response.json(body(new URL(request.url).pathname.slice("/guarded/".length), d.subject.name)),
  );
  const fetchHandler = (request: Request): Response | Promise<Response> => {
    const path = new URL(request.url).pathname;
    if (path.startsWith("/bare/")) return Response.json(body(path.slice("/bare/".length), "anonymous"));
    return guardedFetch(request, undefined);
  };

  const ready: Ready = {
    ports: {
      express: await listen(createServer(ex)),
      fastify: (fa.server.address() as AddressInfo).port,
      hono: await listen(createServer(getRequestListener(ho.fetch))),
      fetch: await listen(createServer(getRequestListener(fetchHandler))),
    },
    tokens,
  };
  process.send!(ready);
  // The parent asks for the server's CPU time around each measurement: CPU per request is far
  // less sensitive than req/s to other processes competing for the machine's cores.
  process.on("message", () => {
    const u = process.cpuUsage();
    process.send!({ cpu: u.user + u.system });
  });
}

// ── the load loop (parent process) ────────────────────────────────────────────────────────────
function get(agent: Agent, port: number, path: string, token: string): Promise<number> {
  return new Promise((ok, fail) => {
    const req = request({ host: "127.0.0.1", port, path, agent, headers: { authorization: `Bearer ${token}` } }, (res) => {
      res.resume();
      res.on("end", () => ok(res.statusCode ?? 0));
    });
    req.on("error", fail);
    req.end();
  });
}

let askCpu: () => Promise<number> = async () => 0;

async function load(port: number, prefix: string, tokens: string[], seconds: number): Promise<{ rps: number; errors: number; cpuPerRequest: number }> {
  const cpu0 = await askCpu();
  const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  let done = 0;
  let errors = 0;
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async (_, k) => {
      for (let i = k; performance.now() < end; i += CONCURRENCY) {
        const status = await get(agent, port, `${prefix}insp_${(i * 7) % ITEMS}`, tokens[i % tokens.length]!);
        if (status === 200) done++;
        else errors++;
      }
    }),
  );
  const elapsed = (performance.now() - t0) / 1000;
  const cpu1 = await askCpu();
  agent.destroy();
  return { rps: done / elapsed, errors, cpuPerRequest: (cpu1 - cpu0) / Math.max(1, done + errors) };
}

async function main(): Promise<void> {
  const child = fork(fileURLToPath(import.meta.url), ["--serve"], { execArgv: ["--import", "tsx"], stdio: ["ignore", "inherit", "inherit", "ipc"] });
  const ready = await new Promise<Ready>((ok, fail) => {
    child.once("message", (m) => ok(m as Ready));
    child.once("exit", (code) => fail(new Error(`bench server exited with ${code}`)));
  });
  askCpu = () =>
    new Promise<number>((ok) => {
      child.once("message", (m) => ok((m as { cpu: number }).cpu));
      child.send("cpu");
    });
  const rows: Record<string, string | number>[] = [];
  const started = performance.now();
  for (const fw of FRAMEWORKS) {
    const port = ready.ports[fw];
    await load(port, "/bare/", ready.tokens, 0.5); // warm-up (JIT, sockets)
    await load(port, "/guarded/", ready.tokens, 0.5);
    const bare: number[] = [];
    const guarded: number[] = [];
    const ratios: number[] = [];
    const cpuBare: number[] = [];
    const cpuGuarded: number[] = [];
    let errors = 0;
    for (let r = 0; r < ROUNDS; r++) {
      const b = await load(port, "/bare/", ready.tokens, SECONDS);
      const g = await load(port, "/guarded/", ready.tokens, SECONDS);
      bare.push(b.rps);
      guarded.push(g.rps);
      ratios.push(g.rps / b.rps);
      cpuBare.push(b.cpuPerRequest);
      cpuGuarded.push(g.cpuPerRequest);
      errors += b.errors + g.errors;
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const b = median(bare);
    const g = median(guarded);
    rows.push({
      framework: fw === "fetch" ? "fetch (via @hono/node-server)" : fw === "hono" ? "hono (via @hono/node-server)" : fw,
      "bare req/s": Math.round(b).toLocaleString("en"),
      "keyward req/s": Math.round(g).toLocaleString("en"),
      "keyward / bare": `${median(ratios).toFixed(2)} (${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)})`,
      "server CPU µs/req bare": median(cpuBare).toFixed(1),
      "server CPU µs/req keyward": median(cpuGuarded).toFixed(1),
      "added CPU µs/req": (median(cpuGuarded) - median(cpuBare)).toFixed(1),
      errors,
    });
  }
  child.kill();
  console.log(
    `keyward middleware overhead: ${USERS} user tokens, ${ITEMS} shared items, memory store; ${CONCURRENCY} keep-alive connections over loopback; ${ROUNDS} alternating rounds of ${SECONDS}s (req/s: medians; ratio: median of the rounds' pairs, with their range); node ${process.version}; ${((performance.now() - started) / 1000).toFixed(0)}s`,
  );
  console.table(rows);
}

if (process.argv.includes("--serve")) await serve();
else await main();
