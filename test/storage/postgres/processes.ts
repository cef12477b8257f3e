/**
 * Starts keyward instances in their own OS processes (instance.ts under tsx) and talks to them
 * over stdin/stdout, one JSON line per command. Used by the multi-process tests and by
 * `npm run bench:postgres`.
 */
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

const SCRIPT = fileURLToPath(new URL("./instance.ts", import.meta.url));

/** One instance process. */
export interface Instance {
  readonly name: string;
  /** Calls `kw[path](...args)` in the process; rejects with the error's code. */
  call<T = unknown>(path: string, ...args: unknown[]): Promise<T>;
  /** A command of instance.ts (`status`, `up`, `bench`). */
  op<T = unknown>(op: string, fields?: Record<string, unknown>): Promise<T>;
  close(): Promise<void>;
}

/**
 * Spawns one instance on `schema` at `url`; its listener's application_name starts with `name`.
 *
 * @example
 * ```ts
 * const b = await spawnInstance(url, schema, "kw-B");
 * await b.op("up");
 * const d = await b.call("authorize", token, "reports.export");
 * ```
 */
export async function spawnInstance(url: string, schema: string, name: string, env: Record<string, string> = {}): Promise<Instance> {
  const child: ChildProcessWithoutNullStreams = spawn(process.execPath, ["--import", "tsx", SCRIPT], {
    env: { ...process.env, KEYWARD_PG_URL: url, KW_SCHEMA: schema, KW_NAME: name, ...env },
    stdio: ["pipe", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let next = 0;
  createInterface({ input: child.stdout }).on("line", (line) => {
    let m: { id: number; ok: boolean; value?: unknown; error?: string };
    try {
      m = JSON.parse(line);
    } catch {
      return;
    }
    const p = pending.get(m.id);
    if (p === undefined) return;
    pending.delete(m.id);
    if (m.ok) p.resolve(m.value);
    else p.reject(new Error(m.error));
  });
  const exited = new Promise<void>((resolve) =>
    child.on("exit", () => {
      for (const p of pending.values()) p.reject(new Error(`instance ${name} exited: ${stderr.slice(-2000)}`));
      pending.clear();
      resolve();
    }),
  );
  const send = <T>(command: Record<string, unknown>): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const id = next++;
      pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      child.stdin.write(`${JSON.stringify({ id, ...command })}\n`);
    });
  const instance: Instance = {
    name,
    call: (path, ...args) => send({ path, args }),
    op: (op, fields = {}) => send({ ...fields, op }),
    async close() {
      if (child.exitCode !== null) return;
      await send({ op: "close" }).catch(() => {});
      await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
      if (child.exitCode === null) child.kill();
    },
  };
  await instance.op("status"); // started and connected to its pool
  return instance;
}
