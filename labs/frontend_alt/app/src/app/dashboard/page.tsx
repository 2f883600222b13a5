import { Stats } from "@/components/Stats";

export const dynamic = "force-dynamic";

export default function Dashboard() {
  return (
    <main>
      <h1>Dashboard</h1>
      <Stats bots={3} />
    </main>
  );
}
