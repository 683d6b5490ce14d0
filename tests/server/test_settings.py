"""The server settings refuse a configured JWT secret that is too short to be a key."""

from __future__ import annotations

import pytest

from agentlog.errors import UsageError
from agentlog.server.settings import MIN_JWT_SECRET_CHARS, ServerSettings


@pytest.mark.parametrize("secret", ["secret", "s" * (MIN_JWT_SECRET_CHARS - 1)])
def test_short_jwt_secret_is_refused(tmp_path, secret):
    with pytest.raises(UsageError, match="at least 32"):
        ServerSettings(db=str(tmp_path / "a.db"), data_dir=tmp_path, jwt_secret=secret)


def test_unset_or_long_jwt_secret_is_accepted(tmp_path):
    assert ServerSettings(db=str(tmp_path / "a.db"), data_dir=tmp_path).jwt_secret == ""
    long = "s" * MIN_JWT_SECRET_CHARS
    assert ServerSettings(db=str(tmp_path / "a.db"), data_dir=tmp_path, jwt_secret=long).jwt_secret
