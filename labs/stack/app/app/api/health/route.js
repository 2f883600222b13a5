// Health of the app and its database (a query the signed-in part of the app depends on).
import { asService } from "../../../lib/db";

export const dynamic = "force-dynamic";

export async function GET() {
  try {
    await asService("select 1");
    return Response.json({ status: "ok" });
  } catch (error) {
    console.error(`health: database unreachable: ${error.message}`);
    return Response.json({ status: "degraded", database: "unreachable" }, { status: 500 });
  }
}
