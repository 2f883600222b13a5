// Server component of the dashboard (App Router part of the app).
type Usage = { bots: number; messages: { today: number } };

function readUsage(bots: number): Usage {
  // the usage API answered without `messages` (a backend change nobody announced)
  return JSON.parse(JSON.stringify({ bots })) as Usage;
}

export function Stats({ bots }: { bots: number }) {
  const usage = readUsage(bots);
  return <p className="stats">{usage.bots} aktive Bots, {usage.messages.today} Nachrichten heute</p>;
}
