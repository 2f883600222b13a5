// Sign-up: a new auth user, whose trigger gives it a profile and the free plan (create_free_subscription).
import { randomUUID } from "node:crypto";
import { asAuthService } from "../../../lib/db";

export const dynamic = "force-dynamic";

export async function POST(request) {
  const { email } = await request.json().catch(() => ({}));
  if (!email) {
    return Response.json({ error: "email required" }, { status: 400 });
  }
  try {
    const [user] = await asAuthService(
      "insert into auth.users (id, email, raw_user_meta_data) values ($1, $2, '{}') returning id",
      [randomUUID(), email],
    );
    return Response.json({ id: user.id }, { status: 201 });
  } catch (error) {
    console.error(`signup failed: Database error saving new user: ${error.message}`);
    return Response.json({ error: "Database error saving new user" }, { status: 500 });
  }
}
