"""frontend-diagnostics-agent: Next.js build, lint, tests, digests, CSP, assets and browser smoke test (playbook 4)."""
