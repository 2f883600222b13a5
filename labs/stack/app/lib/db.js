// The app's database access, as a Supabase app's server code does it: one pool for the project's
// database, every query as the signed-in user (role `authenticated` and the JWT claims PostgREST
// would set), so row-level security applies. Errors keep PostgreSQL's SQLSTATE in their message.
import pg from "pg";

const pools = {};

// DATABASE_URL: the API's login role; AUTH_DATABASE_URL: what the auth service (GoTrue) connects
// as, which alone may write auth.users.
function getPool(variable = "DATABASE_URL") {
  if (!process.env[variable]) {
    throw new Error(`${variable} is required (a connection string of the Supabase database)`);
  }
  if (!pools[variable]) {
    pools[variable] = new pg.Pool({
      connectionString: process.env[variable],
      max: 4,
      connectionTimeoutMillis: 5000,
      statement_timeout: 5000,
    });
    // a connection the server ended while idle (restart, failover): logged, the pool replaces it
    pools[variable].on("error", (error) => console.error(`database connection lost: ${error.message}`));
  }
  return pools[variable];
}

export class DatabaseError extends Error {
  constructor(cause) {
    super(`${cause.message} (SQLSTATE ${cause.code || "unknown"})`);
    this.name = "DatabaseError";
    this.code = cause.code;
  }
}

export async function asUser(userId, text, params = []) {
  const client = await getPool().connect();
  try {
    await client.query("begin");
    await client.query(
      "select set_config('role', 'authenticated', true), set_config('request.jwt.claims', $1, true)",
      [JSON.stringify({ sub: userId, role: "authenticated" })],
    );
    const result = await client.query(text, params);
    await client.query("commit");
    return result.rows;
  } catch (error) {
    await client.query("rollback").catch(() => {});
    throw error.code ? new DatabaseError(error) : error;
  } finally {
    client.release();
  }
}

export async function asService(text, params = [], variable = "DATABASE_URL") {
  try {
    return (await getPool(variable).query(text, params)).rows;
  } catch (error) {
    throw error.code ? new DatabaseError(error) : error;
  }
}

// A write of the auth service (sign-up): its own connection, as GoTrue has.
export function asAuthService(text, params = []) {
  return asService(text, params, "AUTH_DATABASE_URL");
}
