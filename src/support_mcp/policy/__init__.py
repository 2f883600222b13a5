"""Policy: SQL guard, command model and allowlists, approvals, redaction, untrusted-text fencing."""
