import nextVitals from "eslint-config-next/core-web-vitals";

const config = [
  ...nextVitals,
  { ignores: [".next/**", "node_modules/**", "next-env.d.ts"] },
  { rules: { "@next/next/no-img-element": "off", "@next/next/no-css-tags": "off",
             "@next/next/no-sync-scripts": "off" } },
];

export default config;
