"use client";

import { useEffect, useState } from "react";

type Visits = { history?: string[] };

// Fault: a client component that counts earlier visits from localStorage and reads a field a
// first visit does not have; it throws in the browser only (the server render is fine).
export function Greeting({ name }: { name: string }) {
  const [visit, setVisit] = useState(1);
  useEffect(() => {
    const stored = JSON.parse(window.localStorage.getItem("greeting-visits") ?? "{}") as Visits;
    setVisit((stored.history as string[]).length + 1);
  }, []);
  return (
    <p id="greeting">
      Hallo {name} (Besuch {visit})
    </p>
  );
}
