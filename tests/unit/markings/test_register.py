"""The versioned token register (data/tokens-v1.toml) and its load-time checks."""

from __future__ import annotations

import importlib.resources

import pytest

from redline.errors import ConfigError, MarkingError
from redline.markings import FORMAT_VERSION, Register, default_register, parse_marking


def _shipped() -> str:
    resource = importlib.resources.files("redline.markings").joinpath("data", "tokens-v1.toml")
    return resource.read_text(encoding="utf-8")


def test_default_register_is_version_1_and_complete() -> None:
    reg = default_register()
    assert reg.version == FORMAT_VERSION == 1
    assert reg.level_banner == ("UNCLASSIFIED", "CONFIDENTIAL", "SECRET", "TOP SECRET")
    assert {"EL", "HCS", "KDK", "RSV", "SI", "TK"} <= set(reg.sci)
    assert [d.banner for d in reg.dissem_order][:5] == ["RSEN", "FOUO", "ORCON", "IMCON", "NOFORN"]
    assert reg.tetragraphs["FVEY"] == {"USA", "AUS", "CAN", "GBR", "NZL"}
    assert reg.tetragraphs["ACGU"] == {"USA", "AUS", "CAN", "GBR"}
    assert reg.tetragraphs["TEYE"] == {"USA", "AUS", "GBR"}
    assert len(reg.trigraphs) == 250
    assert default_register() is reg


def test_other_version_is_refused() -> None:
    text = _shipped().replace("version = 1", "version = 2", 1)
    with pytest.raises(ConfigError, match="version 2"):
        Register.from_toml(text.encode())


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ('names = ["SECRET", "S"]', 'names = ["SECRET", "S", "TS"]', "listed twice"),
        ('portion = "C"', 'portion = "R"', "U, C, S, TS"),
        ('kind = "relido"', 'kind = "magic"', "dissem kind"),
        ('TEYE = ["USA", "AUS", "GBR"]', 'TEYE = ["USA", "AUS", "QQQ"]', "TEYE"),
        ("[cui]", "[cuix]", "malformed"),
    ],
)
def test_malformed_register_is_a_config_error(old: str, new: str, message: str) -> None:
    text = _shipped()
    assert old in text
    with pytest.raises(ConfigError, match=message):
        Register.from_toml(text.replace(old, new, 1).encode())


def test_not_toml_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="TOML"):
        Register.from_toml(b"version = ")


def test_a_custom_register_changes_what_parses() -> None:
    # A deployment adds a tetragraph: tokens come from data, not code.
    text = _shipped().replace("[tetragraphs]\n", '[tetragraphs]\nAUKS = ["AUS", "GBR", "USA"]\n')
    reg = Register.from_toml(text.encode())
    label = parse_marking("(S//REL TO USA, AUKS)", register=reg)
    assert label.releasable_to == frozenset({"USA", "AUS", "GBR"})
    with pytest.raises(MarkingError, match="AUKS"):
        parse_marking("(S//REL TO USA, AUKS)")
