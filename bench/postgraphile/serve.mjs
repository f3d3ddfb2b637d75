// PostGraphile 5 (Grafast's planner) over the benchmark's PostgreSQL database: the outside peer
// of bench/harness.py. Authentication off (no JWT, no roles, no row-level security): it serves
// the roster page as fast as PostGraphile can, which is the comparison issue 36 asks for.
//
//   node serve.mjs DATABASE_URL PORT
//
// The schema is PostGraphile's own reflection of `public` (the Amber preset), served at
// /graphql with Grafserv's Node adaptor; GraphiQL (Ruru) and watch mode off.
import { createServer } from "node:http";
import { postgraphile } from "postgraphile";
import { makePgService } from "postgraphile/adaptors/pg";
import { grafserv } from "postgraphile/grafserv/node";
import { PostGraphileAmberPreset } from "postgraphile/presets/amber";

const [connectionString, port] = process.argv.slice(2);
if (!connectionString || !port) {
  process.stderr.write("usage: node serve.mjs DATABASE_URL PORT\n");
  process.exit(2);
}

const preset = {
  extends: [PostGraphileAmberPreset],
  pgServices: [makePgService({ connectionString, schemas: ["public"], poolConfig: { max: 10 } })],
  grafserv: { port: Number(port), graphqlPath: "/graphql", graphiql: false, watch: false },
  grafast: { explain: process.env.PGL_EXPLAIN === "1" },
};

const pgl = postgraphile(preset);
const serv = pgl.createServ(grafserv);
const server = createServer();
server.on("error", (error) => {
  process.stderr.write(`${error}\n`);
  process.exit(1);
});
await serv.addTo(server);
server.listen(Number(port), "127.0.0.1", () => process.stdout.write(`listening on ${port}\n`));
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, async () => {
    server.close();
    await pgl.release();
    process.exit(0);
  });
}
