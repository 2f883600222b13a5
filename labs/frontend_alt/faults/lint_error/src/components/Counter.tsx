"use client";

import { useState } from "react";

export function Counter({ start = 0 }: { start?: number }) {
  if (start < 0) {
    return null;
  }
  const [count, setCount] = useState(start);
  return (
    <button type="button" onClick={() => setCount(count + 1)}>
      Bots erstellt: {count}
    </button>
  );
}
