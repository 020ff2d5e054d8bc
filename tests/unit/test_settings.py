"""Settings: every block of the configuration file reaches the services, or is refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from redline.bootstrap import _review
from redline.errors import ConfigError
from redline.settings import Settings


def load(tmp_path: Path, text: str, environ: dict[str, str] | None = None) -> Settings:
    config = tmp_path / "redline.toml"
    config.write_text(text)
    return Settings.load(environ or {}, config_path=config, data_dir=tmp_path)


def test_review_block_reaches_the_review_service(tmp_path: Path) -> None:
    settings = load(
        tmp_path,
        '[review]\nretention_s = 3600\nwebhook_url = "https://soc.example/h"\n'
        'webhook_secret_env = "HOOK_KEY"\n',
        {"HOOK_KEY": "s3cret"},
    )
    config = _review(settings)
    assert config.retention_s == 3600
    assert config.webhook_url == "https://soc.example/h"
    assert config.webhook_secret == b"s3cret"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[review]\nwebhook_url = "https://x"\n', "webhook_secret_env"),
        ('[review]\nwebhook_url = "https://x"\nwebhook_secret_env = "NOPE"\n', "NOPE"),
        ("[review]\nretention = 5\n", "retention"),
        ('[policy]\nprovider_public_key = "k.pub"\n', "cannot be configured"),
        ('[authority]\nregister = "a.toml"\n', "both register and public_key"),
        ('[authority]\npublic_key = "a.pub"\n', "both register and public_key"),
        ('[authority]\nregistry = "a.toml"\n', "registry"),
    ],
)
def test_review_and_policy_mistakes_are_refused(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load(tmp_path, text)


def test_authority_block_names_the_register_and_its_key(tmp_path: Path) -> None:
    settings = load(tmp_path, '[authority]\nregister = "a.toml"\npublic_key = "a.pub"\n')
    assert settings.authority_register == Path("a.toml")
    assert settings.authority_public_key == Path("a.pub")
