export default function Home() {
  return (
    <main>
      <h1 id="title">WhatsApp Bot Builder</h1>
      <p><a href="/dashboard">Zum Dashboard</a></p>
    </main>
  );
}
