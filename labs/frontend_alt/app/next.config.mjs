// Second frontend lab (botbau-web): an ES module config whose headers come from a function.
// The Content-Security-Policy is not here: src/proxy.ts sets it per request.
const securityHeaders = (extra = []) => [
  { key: "X-Content-Type-Options", value: "nosniff" },
  { key: "Referrer-Policy", value: "strict-origin-when-cross-origin" },
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
