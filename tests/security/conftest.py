from tests.sync.conftest import integration, other_integration  # noqa: F401  (shared fixtures)
