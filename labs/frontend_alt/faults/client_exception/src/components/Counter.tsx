"use client";

import { useEffect, useState } from "react";

type Saved = { bots?: { count: number } };

// Fault: the counter restores its value from sessionStorage and reads a field an empty storage
// does not have; it throws in the browser after hydration, the server render is fine.
export function Counter({ start = 0 }: { start?: number }) {
  const [count, setCount] = useState(start);
  useEffect(() => {
    const saved = JSON.parse(window.sessionStorage.getItem("botbau-counter") ?? "{}") as Saved;
    setCount((saved.bots as { count: number }).count);
  }, []);
  return (
    <button type="button" onClick={() => setCount(count + 1)}>
      Bots erstellt: {count}
    </button>
  );
}
