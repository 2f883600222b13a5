// The combined lab's app (labs/stack: the frontend lab's app with the database pages): the
// Supabase project URL the browser talks to is in connect-src, as a Supabase client needs it.
const supabaseUrl = process.env.NEXT_PUBLIC_SUPABASE_URL || "";
const csp = [
  "default-src 'self'",
  "script-src 'self' 'unsafe-inline'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self'",
  `connect-src 'self' ${supabaseUrl}`.trim(),
  "frame-ancestors 'none'",
].join("; ");

// The server's settings, checked when the app builds and starts (as t3-env or a zod schema in
// next.config does): without them the app refuses to start.
for (const name of ["DATABASE_URL", "AUTH_DATABASE_URL"]) {
  if (!process.env[name]) {
    throw new Error(`Invalid environment variables: ${name} is required (the Supabase database's connection string)`);
  }
}

/** @type {import('next').NextConfig} */
module.exports = {
  poweredByHeader: false,
  async headers() {
    return [{
      source: "/:path*",
      headers: [
        { key: "Content-Security-Policy", value: csp },
        { key: "X-Content-Type-Options", value: "nosniff" },
      ],
    }];
  },
};
