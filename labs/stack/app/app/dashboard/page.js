// The signed-in user's dashboard: profile, plan, team and usage, read as that user (RLS applies).
import { asUser } from "../../lib/db";

export const dynamic = "force-dynamic";

// the lab's signed-in user (a session cookie would carry it in the real app)
const USER_ID = process.env.LAB_SIGNED_IN_USER || "11111111-1111-4111-8111-111111111111";

export default async function Dashboard() {
  const [profile] = await asUser(USER_ID, "select full_name from public.profiles where id = $1", [USER_ID]);
  const [subscription] = await asUser(USER_ID, "select plan, status from public.subscriptions where user_id = $1", [USER_ID]);
  // the usage figures through the project's RPC, as `supabase.rpc('get_dashboard_stats')` calls it
  const [stats] = await asUser(USER_ID, "select messages_sent, bots from public.get_dashboard_stats()");
  const team = await asUser(USER_ID, "select user_id, role from public.team_members order by role");
  if (!profile) {
    throw new Error(`profile ${USER_ID} not visible to its own user`);
  }
  return (
    <main>
      <h1 id="title">Dashboard</h1>
      <p id="name">{profile.full_name}</p>
      <p id="plan">{subscription ? `${subscription.plan} (${subscription.status})` : "kein Abo"}</p>
      <p id="team">{team.length} Teammitglieder</p>
      <p id="stats">{stats ? `${stats.messages_sent} Nachrichten, ${stats.bots} Bots` : "keine Nutzung"}</p>
    </main>
  );
}
