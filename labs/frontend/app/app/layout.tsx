import type { ReactNode } from "react";

export const metadata = { title: "Support MCP frontend lab" };

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="de">
      <head>
        <link rel="stylesheet" href="/styles/lab.css" />
        <script src="/scripts/lab.js" defer />
      </head>
      <body>{children}</body>
    </html>
  );
}
