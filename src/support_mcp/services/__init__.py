"""Services: the incident workflow and the knowledge base, built on agents, policy and store."""
