// Server component of the dashboard (App Router part of the app).
export function Stats({ bots }: { bots: number }) {
  return <p className="stats">{bots} aktive Bots</p>;
}
