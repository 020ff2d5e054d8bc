"""Arguments and helpers shared by CLI command groups.

Every command that reads local state finds it in the data directory: ``--data-dir``, else
``$REDLINE_DATA_DIR``, else the platform default (:func:`redline.settings.default_data_dir`),
exactly as ``redline serve`` does (the precedence lives in :meth:`Settings.load`).
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported lazily: `redline audit verify --key F` must not load the settings
    from redline.settings import Settings

__all__ = [
    "UsageError",
    "add_data_dir_argument",
    "format_table",
    "load_settings",
    "resolve_data_dir",
]


class UsageError(Exception):
    """Bad command-line input; printed without a traceback, exit code 2."""


def add_data_dir_argument(parser: argparse.ArgumentParser, *, config: bool = True) -> None:
    """``--data-dir`` (and ``--config`` unless ``config=False``), as ``redline serve``
    takes them."""
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help="data directory (default: $REDLINE_DATA_DIR or ~/.local/share/redline)",
    )
    if config:
        parser.add_argument(
            "--config",
            type=Path,
            default=None,
            help="gateway configuration (TOML; default: $REDLINE_CONFIG)",
        )


def load_settings(
    args: argparse.Namespace, *, host: str | None = None, port: int | None = None
) -> Settings:
    """Settings from the process environment, ``--config`` and command-line overrides.

    ``--config`` defaults to ``$REDLINE_CONFIG``, as for ``Settings.from_environ``.
    """
    import os

    from redline.settings import Settings

    environ = os.environ  # noqa: TID251 - the CLI is a composition root; Settings parses it
    config: Path | None = getattr(args, "config", None)
    if config is None and environ.get("REDLINE_CONFIG"):
        config = Path(environ["REDLINE_CONFIG"])
    return Settings.load(environ, config_path=config, data_dir=args.data_dir, host=host, port=port)


def resolve_data_dir(explicit: str | Path | None) -> Path:
    """The data directory: ``explicit``, else ``$REDLINE_DATA_DIR``, else the default.

    Raises:
        ConfigError: the environment holds an invalid Redline setting.
    """
    import os

    from redline.settings import Settings

    environ = os.environ  # noqa: TID251 - the CLI is a composition root; Settings parses it
    return Settings.load(environ, data_dir=Path(explicit) if explicit else None).data_dir


def format_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Left-aligned columns separated by two spaces, header first (no trailing blanks)."""
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(len(header))]
    lines = []
    for row in (header, *rows):
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=True)]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)
