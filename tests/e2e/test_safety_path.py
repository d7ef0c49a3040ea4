"""Safety first: `emergency` prints its guidance and the emergency numbers before any config,
environment, profile, credential or network step, and `contact` and `checklist --issue
accident` print what needs no service, whatever is wrong with the setup. The problem is
reported on stderr after that output; the exit status is the problem's own (2 for a bad config,
environment variable or option, 4 for credentials), and emergency files no ticket with a
setup it cannot use (exit 10 when it queued the ticket because the service was unreachable)."""
import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "pylib"))
import chtest  # noqa: E402
from test_i18n import zh_locale, lang_env  # noqa: E402,F401

NUMBERS = ("122", "120", "110", "119")


def closed_port_url():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return f"http://127.0.0.1:{port}"


# Each broken setup: (name, how to break it, expected exit of emergency, a word the problem
# line on stderr must contain). `setup` gets the env and returns extra argv (globals).
def config_typo(env):
    Path(env["CARHELP_CONFIG_DIR"], "config").write_text("[default]\ncolour = always\n")
    return []


def timeout_env(env):
    env["CARHELP_TIMEOUT"] = "abc"
    return []


def retries_env(env):
    env["CARHELP_RETRIES"] = "-1"
    return []


def no_such_profile(env):
    Path(env["CARHELP_CONFIG_DIR"], "config").write_text("[default]\ntimeout = 10\n")
    return ["--profile", "nope"]


def insecure_credentials(env):
    cred = Path(env["CARHELP_CONFIG_DIR"], "credentials")
    cred.write_text("[default]\ntoken = tok_x\nrole = customer\nsubject = acc_1001\n")
    cred.chmod(0o644)
    return []


def unreadable_credentials(env):
    cred = Path(env["CARHELP_CONFIG_DIR"], "credentials")
    cred.mkdir()            # a folder where the file should be: unreadable as a file
    return []


def no_credentials(env):
    return []


def ftp_url(env):
    return ["--api-url", "ftp://x"]


def plain_http_remote(env):
    return ["--api-url", "http://example.com"]


def bad_color(env):
    return ["--color", "sometimes"]


def unreachable_api_logged_in(env):
    env["CARHELP_TOKEN"] = "tok_anything"
    env["CARHELP_RETRIES"] = "0"
    return ["--api-url", closed_port_url()]


def unwritable_outbox(env):
    env["CARHELP_TOKEN"] = "tok_anything"
    env["CARHELP_RETRIES"] = "0"
    state = Path(env["CARHELP_STATE_DIR"])
    state.rmdir()
    state.write_text("a file where the state folder should be\n")   # even root cannot mkdir in it
    return ["--api-url", closed_port_url()]


BROKEN = [
    ("config_typo", config_typo, 2, "colour"),
    ("timeout_env", timeout_env, 2, "CARHELP_TIMEOUT"),
    ("retries_env", retries_env, 2, "CARHELP_RETRIES"),
    ("no_such_profile", no_such_profile, 2, "nope"),
    ("insecure_credentials", insecure_credentials, 4, "chmod"),
    ("unreadable_credentials", unreadable_credentials, 4, "credentials"),
    ("no_credentials", no_credentials, 4, "log"),
    ("ftp_url", ftp_url, 2, "ftp://x"),
    ("plain_http_remote", plain_http_remote, 2, "http://example.com"),
    ("bad_color", bad_color, 2, "--color"),
    ("unreachable_api", unreachable_api_logged_in, 10, "outbox"),
]


def broken_run(tmp_path, setup, *args, lang=None):
    env = chtest.isolated_env(tmp_path)
    if lang:
        env = lang_env(env, lang)
    extra = setup(env)
    argv = [chtest.CARHELP, *extra, *args]
    sep = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=60)
    merged = subprocess.run(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, timeout=60)
    return sep, merged


def assert_guidance_first(r, merged, guidance_start, problem_word):
    assert r.stdout.startswith(guidance_start), r.stdout[:200]
    for n in NUMBERS:
        assert n in r.stdout, (n, r.stdout)
    assert problem_word in r.stderr, r.stderr
    # In one stream, the problem comes after the numbers.
    last_number = max(merged.stdout.index(n) for n in NUMBERS)
    assert merged.stdout.index(problem_word, last_number) > last_number, merged.stdout


@pytest.mark.parametrize("name,setup,code,word", BROKEN, ids=[b[0] for b in BROKEN])
def test_emergency_guidance_comes_first_whatever_is_broken(tmp_path, name, setup, code, word):
    r, merged = broken_run(tmp_path, setup, "emergency")
    assert r.returncode == code, (r.returncode, r.stdout, r.stderr)
    assert_guidance_first(r, merged, "EMERGENCY", word)
    assert "400-000-1234" in r.stdout + r.stderr


def test_emergency_guidance_comes_first_when_the_outbox_cannot_be_written(tmp_path):
    r, merged = broken_run(tmp_path, unwritable_outbox, "emergency")
    assert r.returncode not in (0, 10), (r.returncode, r.stderr)
    assert r.stdout.startswith("EMERGENCY")
    assert all(n in r.stdout for n in NUMBERS)
    assert "400-000-1234" in r.stderr
    assert merged.stdout.index("400-000-1234", merged.stdout.index("119")) > 0


# contact and checklist: a usage error of the command line itself (--color sometimes) fails as
# usual; a setting from the config, environment, profile or credentials does not block the
# output that needs no service.
SERVICE_SETTINGS = [b for b in BROKEN if b[0] not in ("bad_color",)]


def expected_other(name, code):
    """contact and checklist need no login: credentials problems and an unreachable service
    leave them at exit 0 (they work offline); config, environment and option values are 2."""
    return 0 if code in (4, 10) else code


@pytest.mark.parametrize("name,setup,code,word", SERVICE_SETTINGS,
                         ids=[b[0] for b in SERVICE_SETTINGS])
def test_contact_prints_the_numbers_whatever_the_setup_says(tmp_path, name, setup, code, word):
    r, merged = broken_run(tmp_path, setup, "contact")
    want = expected_other(name, code)
    assert r.returncode == want, (r.returncode, r.stdout, r.stderr)
    assert r.stdout.startswith("Customer service"), r.stdout[:200]
    assert all(n in r.stdout for n in NUMBERS)
    if want:
        assert word in r.stderr, r.stderr
        assert merged.stdout.index(word) > merged.stdout.index("119"), merged.stdout


@pytest.mark.parametrize("name,setup,code,word", SERVICE_SETTINGS,
                         ids=[b[0] for b in SERVICE_SETTINGS])
def test_accident_checklist_prints_whatever_the_setup_says(tmp_path, name, setup, code, word):
    r, merged = broken_run(tmp_path, setup, "checklist", "--issue", "accident")
    want = expected_other(name, code)
    assert r.returncode == want, (r.returncode, r.stdout, r.stderr)
    assert "122" in r.stdout and "400-000-1234" in r.stdout, r.stdout
    if want:
        assert word in r.stderr, r.stderr
        assert merged.stdout.index(word) > merged.stdout.rindex("400-000-1234"), merged.stdout


def test_a_mistyped_option_of_emergency_itself_still_prints_the_guidance_first(tmp_path):
    r, merged = broken_run(tmp_path, no_credentials, "emergency", "--locaton", "39.9,116.4")
    assert r.returncode == 2
    assert_guidance_first(r, merged, "EMERGENCY", "--locaton")


def test_emergency_json_puts_the_guidance_on_stderr_before_the_error(tmp_path):
    r, merged = broken_run(tmp_path, config_typo, "--json", "emergency")
    assert r.returncode == 2
    assert r.stdout == ""
    assert r.stderr.startswith("EMERGENCY")
    assert '"error"' in r.stderr and r.stderr.index('"error"') > r.stderr.index("119")


def test_emergency_guidance_comes_first_in_chinese_with_a_broken_config(tmp_path, zh_locale):
    r, merged = broken_run(tmp_path, config_typo, "emergency", lang=zh_locale)
    assert r.returncode == 2, r.stderr
    assert re.match(r"\S", r.stdout) and "EMERGENCY" not in r.stdout, r.stdout[:200]
    assert all(n in r.stdout for n in NUMBERS)
    assert "colour" in r.stderr
    assert re.search(r"[\u4e00-\u9fff]", r.stdout), r.stdout
    assert re.search(r"[\u4e00-\u9fff]", r.stderr), r.stderr
    assert merged.stdout.index("colour") > merged.stdout.index("119")
