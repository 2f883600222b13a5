// Fault: the import names components/greeting; the file is components/Greeting.tsx (fine on a
// case-insensitive laptop, "Module not found" on the Linux build host).
import { Greeting } from "./components/greeting";
import { formatPrice } from "@/lib/format";

// Rendered per request, so a throwing server component fails at run time (digest), not at build.
export const dynamic = "force-dynamic";

export default function Home() {
  const price: number = 19.9;
  return (
    <main>
      <h1 id="title">Frontend lab</h1>
      <Greeting name="Kundin" />
      <p id="price">{formatPrice(price)}</p>
      <img id="logo" src="/images/logo.png" alt="Logo" width={16} height={16} />
    </main>
  );
}
