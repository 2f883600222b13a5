// Fault: "@/components/priceTag" while the file is src/components/PriceTag.tsx (letter case).
import { Counter } from "@/components/Counter";
import { PriceTag } from "@/components/priceTag";

export default function Home() {
  return (
    <main>
      <img src="/img/logo.svg" alt="Botbau" width={120} height={40} />
      <h1>Botbau</h1>
      <p>
        WhatsApp-Bots ab <PriceTag cents={1250} /> im Monat
      </p>
      <Counter />
    </main>
  );
}
