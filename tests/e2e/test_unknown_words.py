"""An unknown word (command, subcommand, option; on the command line and in the shell) is echoed
in its first 20 characters with controls escaped, and a pasted token is never echoed nor
compared with the commands for a "did you mean"."""
from pathlib import Path

import pexpect

import chtest
from conftest import DEMO_PHONE, DEMO_CODE

PROMPT = r"carhelp \(default: [^)]*\)( \[\d+\])?> "


def issued_token(carhelp):
    """Logs 王小明 in and returns the token the service issued (from the credentials file)."""
    r = carhelp("login", "--phone", DEMO_PHONE, input=DEMO_CODE + "\n")
    assert r.returncode == 0, r.stderr
    for line in (Path(carhelp.env["CARHELP_CONFIG_DIR"]) / "credentials").read_text().splitlines():
        key, sep, value = line.partition("=")
        if sep and key.strip() == "token":
            return value.strip()
    raise AssertionError("no token in the credentials file")


def assert_token_hidden(token, stderr):
    assert token not in stderr
    # Nothing past its first four characters appears, even in part.
    assert token[:8] not in stderr
    assert "looks like a token: not shown" in stderr
    assert "did you mean" not in stderr


def test_a_pasted_token_as_the_command_is_not_echoed(carhelp):
    token = issued_token(carhelp)
    assert len(token) >= 32
    r = carhelp(token)
    assert r.returncode == 2
    assert_token_hidden(token, r.stderr)
    assert f"'{token[:4]}…'" in r.stderr
    assert "CARHELP_TOKEN" in r.stderr   # the hint says where a token goes


def test_a_pasted_token_as_a_subcommand_or_option_is_not_echoed(carhelp):
    token = issued_token(carhelp)
    for args in (("ticket", token), ("--" + token,), ("order", "list", "--" + token),
                 ("help", token)):
        r = carhelp(*args)
        assert r.returncode == 2, (args, r.stderr)
        assert_token_hidden(token, r.stderr)
    r = carhelp("order", "show", "--x=" + token)   # a value, not the option name: not echoed
    assert token not in r.stderr


def test_a_long_unknown_word_is_cut_to_twenty_characters(carhelp):
    word = "abcdefghijklmnopqrstuvwxyz"   # 26 letters: too short for a token
    r = carhelp(word)
    assert r.returncode == 2
    assert "'abcdefghijklmnopqrst…'" in r.stderr
    assert "abcdefghijklmnopqrstu" not in r.stderr
    r = carhelp("--" + word)
    assert "'--abcdefghijklmnopqrst…'" in r.stderr
    # Characters, not bytes: 25 Chinese characters keep their first 20, whole.
    r = carhelp("车" * 25)
    assert f"'{'车' * 20}…'" in r.stderr
    assert "车" * 21 not in r.stderr


def test_controls_in_an_unknown_word_are_escaped(carhelp):
    r = chtest.run(carhelp.env, "ord\x1b[2Jer")
    assert r.returncode == 2
    assert "\x1b" not in r.stderr
    assert "'ord\\x1b[2Jer'" in r.stderr
    r = chtest.run(carhelp.env, "order", "\u202eshow\u009b")
    assert "\u202e" not in r.stderr and "\u009b" not in r.stderr
    assert "'\\u202eshow\\u009b'" in r.stderr
    r = chtest.run(carhelp.env, "--x\x07y", "order")
    assert "\x07" not in r.stderr and "'--x\\x07y'" in r.stderr


def test_a_close_word_still_gets_its_suggestion(carhelp):
    r = carhelp("ordr")
    assert r.returncode == 2
    assert "unknown command 'ordr'" in r.stderr
    assert "did you mean 'order'?" in r.stderr


def test_a_token_pasted_into_the_shell_is_not_echoed(carhelp):
    token = issued_token(carhelp)
    e = dict(carhelp.env, TERM="dumb")
    child = pexpect.spawn(chtest.CARHELP, ["shell"], env=e, encoding="utf-8", timeout=20,
                          dimensions=(40, 400))
    child.expect(PROMPT)
    child.sendline(token)
    child.expect_exact(token)           # the terminal's echo of what was typed
    child.expect(PROMPT)
    answer = child.before
    assert "unknown command" in answer
    assert_token_hidden(token, answer)
    child.sendline("abcdefghijklmnopqrstuvwxyz")
    child.expect_exact("abcdefghijklmnopqrstuvwxyz")
    child.expect(PROMPT)
    assert "'abcdefghijklmnopqrst…'" in child.before
    assert "abcdefghijklmnopqrstu" not in child.before
    chtest.wait_for_line_editor(child)
    child.sendeof()
    child.expect(pexpect.EOF)
    child.close()
