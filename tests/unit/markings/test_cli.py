"""``redline marking join|parse|extract`` through the command group's own parser."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from redline.cli import marking
from redline.cli.main import main


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="redline marking")
    marking.register(parser, "marking")
    args = parser.parse_args(argv)
    code: int = args.handler(args)
    return code


def test_join_prints_the_rolled_up_banner(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["join", "S//REL TO USA, GBR", "(C//NF)"]) == 0
    assert capsys.readouterr().out == "SECRET//NOFORN\n"


def test_join_portion_form(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["join", "--portion", "(TS//SI//NF)", "(S//TK//NF)"]) == 0
    assert capsys.readouterr().out == "(TS//SI/TK//NF)\n"


def test_join_warns_about_defects(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["join", "(S//REL TO USA, GBR)", "(S)"]) == 0
    out = capsys.readouterr()
    assert out.out == "SECRET//NOFORN\n"
    assert "missing-fdr" in out.err


def test_parse_prints_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["parse", "(ts//si-g abcd//oc/nf)"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["banner"] == "TOP SECRET//SI-G ABCD//ORCON/NOFORN"
    assert doc["sci"] == ["SI", "SI-G", "SI-G ABCD"]
    assert doc["releasable_to"] == ["USA"]


def test_extract_reads_a_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "doc.txt"
    path.write_text("SECRET//REL TO USA, GBR\n(S//REL TO USA, GBR) body\n", encoding="utf-8")
    assert run(["extract", str(path)]) == 0
    assert capsys.readouterr().out == "SECRET//REL TO USA, GBR\n"


def test_bad_marking_exits_2_with_token_and_rule(capsys: pytest.CaptureFixture[str]) -> None:
    # Through the real dispatcher: MarkingError is a GatewayError, mapped to exit code 2.
    assert main(["marking", "join", "S//REL TO USA, GBR", "(C//NF/REL TO USA, GBR)"]) == 2
    err = capsys.readouterr().err
    assert "NOFORN" in err
    assert "ISM-ID-00033" in err
