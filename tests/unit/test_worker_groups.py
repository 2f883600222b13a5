"""How the suite's two workers split the tests (tests/conftest.py): host-lab modules together."""

from __future__ import annotations

import conftest


def test_host_lab_modules_share_one_group_and_others_keep_their_module() -> None:
    assert conftest.worker_group("tests/e2e/test_outcomes_hetzner.py::test_x[hetzner-crash_loop-scenario]") == "host-lab"
    assert conftest.worker_group("tests/e2e/test_demo.py::test_demo_on_the_embedded_server_end_to_end") == "host-lab"
    # the folder's conftest.py starts the lab for every module in it
    assert conftest.worker_group("tests/integration/hetzner_ops/test_ssh_executor.py::test_x") == "host-lab"
    assert conftest.worker_group("tests/unit/policy/test_fencing.py::test_x") == "tests/unit/policy/test_fencing.py"
    assert conftest.worker_group("tests/e2e/test_cli.py::test_x") == "tests/e2e/test_cli.py"


def test_the_frontend_matrix_is_one_group_per_scenario() -> None:
    prefix = "tests/e2e/test_outcomes_frontend.py::test_frontend_fault_is_named_through_the_cli"
    own, neutral = (conftest.worker_group(f"{prefix}[frontend_alt-csp_blocked-{t}]") for t in ("scenario", "neutral"))
    assert own == neutral != conftest.worker_group(f"{prefix}[frontend_alt-stale_build-scenario]")
