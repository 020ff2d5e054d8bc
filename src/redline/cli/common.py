"""Arguments and helpers shared by CLI command groups."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported lazily: `redline audit verify` must not load the settings
    from redline.settings import Settings

__all__ = ["UsageError", "add_data_dir_argument", "load_settings"]


class UsageError(Exception):
    """Bad command-line input; printed without a traceback, exit code 2."""


def add_data_dir_argument(parser: argparse.ArgumentParser) -> None:
    """``--data-dir`` and ``--config``, as ``redline serve`` takes them."""
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help="data directory (default: $REDLINE_DATA_DIR or ~/.local/share/redline)",
    )
    parser.add_argument("--config", type=Path, default=None, help="gateway configuration (TOML)")


def load_settings(
    args: argparse.Namespace, *, host: str | None = None, port: int | None = None
) -> Settings:
    """Settings from the process environment, ``--config`` and command-line overrides."""
    import os

    from redline.settings import Settings

    return Settings.load(
        os.environ,  # noqa: TID251 - the CLI is a composition root; Settings parses it
        config_path=args.config,
        data_dir=args.data_dir,
        host=host,
        port=port,
    )
