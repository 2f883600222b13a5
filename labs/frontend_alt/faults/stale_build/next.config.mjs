// Second frontend lab (botbau-web): an ES module config whose headers come from a function.
// The Content-Security-Policy is not here: src/proxy.ts sets it per request.
// Fault: Permissions-Policy was added here after the running build was made (headers() is
// baked into .next/routes-manifest.json at build time).
const securityHeaders = (extra = []) => [
  { key: "X-Content-Type-Options", value: "nosniff" },
  { key: "Referrer-Policy", value: "strict-origin-when-cross-origin" },
  { key: "Permissions-Policy", value: "camera=(), microphone=(), geolocation=()" },
  ...extra,
];

/** @type {import('next').NextConfig} */
const config = {
  poweredByHeader: false,
  reactStrictMode: true,
  async headers() {
    return [{ source: "/:path*", headers: securityHeaders() }];
  },
};

export default config;
