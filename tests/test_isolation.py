"""Every test runs apart from the developer's shell and home (conftest's autouse fixture)."""

import os

import pytest

from service.settings import Settings, default_cache_dir, default_data_dir, default_digest_config


def test_no_brief_variable_of_the_shell_reaches_a_test() -> None:
    assert [name for name in os.environ if name.startswith("BRIEF_")] == []
    assert Settings().model == "embedded"


def test_the_user_cache_data_and_config_are_a_temporary_home(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    base = tmp_path_factory.getbasetemp()
    for path in (default_cache_dir(), default_data_dir(), default_digest_config()):
        assert base in path.parents, path
    assert Settings().cache_dir == default_cache_dir()
