"use client";

import { useState } from "react";

export function Counter({ enabled }: { enabled: boolean }) {
  if (!enabled) {
    return null;
  }
  const [count, setCount] = useState(0);
  return <button onClick={() => setCount(count + 1)}>{count}</button>;
}
