"""Executors: run typed operations (local subprocess, SSH, SQL, HTTP, browser) and return results."""
