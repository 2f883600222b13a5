"""hetzner-ops-agent (playbook section 3): checks, parsers and gated repairs on a host over SSH."""
