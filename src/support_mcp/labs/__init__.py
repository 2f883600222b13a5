"""Labs: real stand-ins for a customer's systems on this machine (started by the demo and the tests).

Only the CLI and the tests import this package; it sits beside bootstrap and builds on the
executors, the policy and the domain.
"""
