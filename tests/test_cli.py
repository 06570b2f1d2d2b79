"""The CLI dispatcher: help, unknown commands, user errors without tracebacks."""

import argparse

import pytest

from genepheno_core import cli
from genepheno_core.errors import InputFormatError


def test_help_lists_commands(capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["--help"])
    assert exc.value.code == 0
    assert "genepheno" in capsys.readouterr().out


def test_no_command_prints_help(capsys):
    assert cli.main([]) == 2
    assert "usage" in capsys.readouterr().out


def test_user_error_is_one_line_and_nonzero(monkeypatch, capsys):
    def fake_parser():
        parser = argparse.ArgumentParser()
        parser.add_argument("-v", "--verbose", action="count", default=0)
        parser.add_argument("-q", "--quiet", action="store_true")

        def boom(args):
            raise InputFormatError("in.fasta", "unexpected character '!'", line=3)

        parser.set_defaults(func=boom)
        return parser

    monkeypatch.setattr(cli, "get_parser", fake_parser)
    assert cli.main([]) == 1
    err = capsys.readouterr().err
    assert err.strip() == "error: in.fasta, line 3: unexpected character '!'"
    assert "Traceback" not in err


def test_cli_logging_does_not_leak(monkeypatch, capsys):
    import logging

    package_logger = logging.getLogger("genepheno_core")
    before = (package_logger.handlers[:], package_logger.level, package_logger.propagate)

    def fake_parser():
        parser = argparse.ArgumentParser()
        parser.add_argument("-v", "--verbose", action="count", default=0)
        parser.add_argument("-q", "--quiet", action="store_true")
        parser.set_defaults(func=lambda args: logging.getLogger("genepheno_core.x").info("hello"))
        return parser

    monkeypatch.setattr(cli, "get_parser", fake_parser)
    assert cli.main([]) == 0
    assert "INFO genepheno_core.x: hello" in capsys.readouterr().err
    after = (package_logger.handlers[:], package_logger.level, package_logger.propagate)
    assert after == before
