"""The harness's own asserts (``same_everywhere``) explain a difference as a test's would."""

import pytest

pytest.register_assert_rewrite("tests.conformance.hosts", "tests.conformance.case")
