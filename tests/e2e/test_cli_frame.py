"""The command-line frame: global options anywhere, dispatch from the command table, --help,
usage errors with suggestions, configuration precedence and its errors, --version without
side effects, `__complete`, `completion`, and the stdout write check."""
import json
import os
import socket
import subprocess
import time

import pexpect
import pytest

import chtest

COMMANDS = {"login", "logout", "auth", "doctor", "contact", "completion", "help"}


def closed_port_url():
    """A loopback URL nobody listens on."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return f"http://127.0.0.1:{port}"


@pytest.fixture
def offline(tmp_path):
    """carhelp in an isolated environment whose API URL is a closed loopback port."""
    env = chtest.isolated_env(tmp_path, closed_port_url())

    def run(*args, input=None, timeout=30, **overrides):
        e = dict(env)
        for k, v in overrides.items():   # None removes a variable
            if v is None:
                e.pop(k, None)
            else:
                e[k] = str(v)
        return chtest.run(e, *args, input=input, timeout=timeout)
    run.env = env
    return run


def config_dir(run):
    return run.env["CARHELP_CONFIG_DIR"]


def write_config(run, text):
    path = os.path.join(config_dir(run), "config")
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    return path


def one_error_line(stderr):
    lines = [ln for ln in stderr.splitlines() if ln.strip()]
    assert lines, "expected an error on stderr"
    assert lines[0].startswith("carhelp: "), lines
    return lines[0]


# -- --version ------------------------------------------------------------------------------

def test_version_prints_name_features_and_default_api_without_network(offline):
    r = offline("--version")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == "carhelp 0.1.0"
    assert lines[1].startswith("features: readline ")
    assert "libcurl/" in lines[1] and "qrencode" in lines[1] and "libpng" in lines[1]
    assert lines[2] == "default API: http://127.0.0.1:8765"
    assert r.stderr == ""


def test_version_creates_no_files_and_ignores_a_broken_config(offline):
    write_config(offline, "this is [not an ini file\n")
    before = sorted(os.listdir(config_dir(offline)))
    for args in (["--version"], ["-V"], ["auth", "status", "--version"]):
        r = offline(*args)
        assert r.returncode == 0, (args, r.stderr)
        assert r.stdout.startswith("carhelp 0.1.0\n")
    assert sorted(os.listdir(config_dir(offline))) == before
    for sub in ("CARHELP_STATE_DIR", "CARHELP_CACHE_DIR"):
        assert os.listdir(offline.env[sub]) == []


def test_version_json_is_one_object(offline):
    r = offline("--version", "--json")
    assert r.returncode == 0
    doc = json.loads(r.stdout)
    assert doc["version"] == "0.1.0"
    assert doc["default_api_url"] == "http://127.0.0.1:8765"
    assert doc["features"]["http"].startswith("libcurl/")


# -- --help -----------------------------------------------------------------------------------

def test_top_level_help_lists_commands_globals_and_exit_codes(offline):
    r = offline("--help")
    assert r.returncode == 0 and r.stderr == ""
    out = r.stdout
    assert out.startswith("Usage: carhelp ")
    for name in COMMANDS:
        assert f"\n  {name} " in out, name
    assert "auth status" in out
    assert "__complete" not in out
    for opt in ("--api-url URL", "--profile NAME", "--json", "-q, --quiet", "-v, --verbose",
                "--color WHEN", "--timeout SEC", "--retries N", "--no-input", "-y, --yes",
                "--cacert FILE", "-V, --version", "-h, --help"):
        assert opt in out, opt
    for code in ("  0  success", "  4  not authenticated", "130  interrupted"):
        assert code in out, code
    assert "CARHELP_TOKEN" in out and "credentials" in out


def visible_commands(run):
    """(group, sub) pairs of every visible command, read from the table via __complete."""
    tops = offline_words(run, "")
    pairs = []
    for top in tops:
        subs = offline_words(run, top, "")
        r = run("help", top)
        is_group = r.stdout.startswith(f"Usage: carhelp {top} SUBCOMMAND")
        pairs.append((top,))
        if is_group:
            pairs += [(top, s) for s in subs]
    return pairs


def offline_words(run, *words):
    r = run("__complete", *words)
    assert r.returncode == 0, r.stderr
    return [w for w in r.stdout.splitlines() if w]


def test_every_command_answers_help_on_stdout(offline):
    pairs = visible_commands(offline)
    assert ("auth", "status") in pairs and ("login",) in pairs
    for words in pairs:
        for flag in ("--help", "-h"):
            r = offline(*words, flag)
            assert r.returncode == 0, (words, r.stderr)
            assert r.stderr == ""
            assert r.stdout.startswith("Usage: carhelp " + " ".join(words)), (words, r.stdout)
        assert offline("help", *words).stdout == offline(*words, "--help").stdout


def test_help_before_the_command_describes_the_command(offline):
    r = offline("--help", "login")
    assert r.returncode == 0
    assert r.stdout.startswith("Usage: carhelp login")
    assert "--phone P" in r.stdout


def test_help_for_an_unknown_command_is_a_usage_error(offline):
    r = offline("help", "logn")
    assert r.returncode == 2
    assert "unknown command 'logn'" in r.stderr and "did you mean 'login'?" in r.stderr


def test_group_without_subcommand_prints_its_help_to_stderr(offline):
    r = offline("auth")
    assert r.returncode == 2
    assert r.stdout == ""
    assert "Usage: carhelp auth SUBCOMMAND" in r.stderr and "status" in r.stderr


def test_bare_carhelp_off_a_tty_prints_usage_and_exits_2(offline):
    r = offline(input="")
    assert r.returncode == 2
    assert r.stdout == ""
    assert "Usage: carhelp" in r.stderr and "login" in r.stderr


def test_a_missing_locale_falls_back_to_english(offline):
    # Not zh_CN.UTF-8: test_i18n generates that one (and translates into it).
    r = offline("--help", LC_ALL="xx_YY.UTF-8", LANG="xx_YY.UTF-8")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("Usage: carhelp") and r.stderr == ""
    r = offline("logn", LC_ALL="xx_YY.UTF-8")
    assert r.returncode == 2 and "unknown command 'logn'" in r.stderr


# -- dispatch and usage errors ----------------------------------------------------------------

def test_unknown_command_suggests_the_closest(offline):
    r = offline("logn")
    assert r.returncode == 2 and r.stdout == ""
    assert one_error_line(r.stderr) == "carhelp: unknown command 'logn'"
    assert "did you mean 'login'?" in r.stderr


def test_transposed_letters_are_one_edit(offline):
    r = offline("dcotor")
    assert r.returncode == 2
    assert "did you mean 'doctor'?" in r.stderr


def test_unknown_command_far_from_everything_has_no_suggestion(offline):
    r = offline("zzzzzz")
    assert r.returncode == 2
    assert "did you mean" not in r.stderr
    assert "carhelp --help" in r.stderr


def test_ambiguous_prefix_lists_the_candidates(offline):
    r = offline("lo")
    assert r.returncode == 2
    assert "ambiguous command 'lo'" in r.stderr
    assert "login" in r.stderr and "logout" in r.stderr


def test_unique_prefixes_dispatch(offline):
    assert offline("doc", "--help").stdout.startswith("Usage: carhelp doctor")
    assert offline("auth", "st", "--help").stdout.startswith("Usage: carhelp auth status")


def test_unknown_option_suggests_the_closest(offline):
    r = offline("login", "--phon", "13800138000")
    assert r.returncode == 2 and r.stdout == ""
    assert one_error_line(r.stderr) == "carhelp: login: unknown option '--phon'"
    assert "did you mean '--phone'?" in r.stderr


def test_unknown_option_suggests_a_global(offline):
    r = offline("auth", "status", "--jsn")
    assert r.returncode == 2
    assert "did you mean '--json'?" in r.stderr


def test_unknown_short_option(offline):
    r = offline("auth", "status", "-x")
    assert r.returncode == 2
    assert "unknown option '-x'" in r.stderr


def test_missing_option_value(offline):
    r = offline("login", "--phone")
    assert r.returncode == 2
    assert "carhelp: login: option '--phone' needs a value" in r.stderr
    r = offline("auth", "status", "--timeout")
    assert r.returncode == 2
    assert "'--timeout' needs a value" in r.stderr


def test_flag_with_a_value_is_an_error(offline):
    r = offline("auth", "status", "--json=yes")
    assert r.returncode == 2
    assert "'--json' takes no value" in r.stderr


def test_too_many_arguments(offline):
    r = offline("auth", "status", "extra")
    assert r.returncode == 2
    assert "too many arguments" in r.stderr
    assert "usage: carhelp auth status" in r.stderr


def test_double_dash_ends_options(offline):
    r = offline("--", "--help")
    assert r.returncode == 2
    assert "unknown command '--help'" in r.stderr


def test_usage_errors_are_json_on_stderr_with_json(offline):
    for args in (["login", "--phon", "x", "--json"], ["--json", "logn"]):
        r = offline(*args)
        assert r.returncode == 2 and r.stdout == ""
        lines = r.stderr.splitlines()
        assert len(lines) == 1, lines
        err = json.loads(lines[0])["error"]
        assert err["exit_code"] == 2
        assert err["code"] and err["message"]
        assert "http_status" in err and "request_id" in err and "retries" in err


# -- global options anywhere, --opt=value, bundles ------------------------------------------------

def test_globals_after_the_command(offline):
    r = offline("auth", "status", "--api-url", "http://example.com")
    assert r.returncode == 2
    assert "--api-url" in r.stderr
    r = offline("auth", "status", "--json", "--api-url", "http://example.com")
    assert json.loads(r.stderr)["error"]["exit_code"] == 2


def test_option_equals_value(offline):
    r = offline("--api-url=http://example.com", "auth", "status")
    assert r.returncode == 2
    assert "--api-url" in r.stderr and "loopback" in r.stderr
    r = offline("auth", "status", "--color=sometimes")
    assert r.returncode == 2
    assert "'sometimes'" in r.stderr and "--color" in r.stderr


def test_short_flags_bundle(offline):
    # -qy parses (both are flags); -qV bundles --version in.
    r = offline("-qV")
    assert r.returncode == 0 and r.stdout.startswith("carhelp 0.1.0")
    r = offline("-qy", "logn")
    assert r.returncode == 2 and "unknown command 'logn'" in r.stderr


# -- configuration: sources named in errors, precedence ------------------------------------------

@pytest.mark.parametrize("args, env, source", [
    (["--timeout", "abc"], {}, "--timeout"),
    (["--timeout=-3"], {}, "--timeout"),
    (["--retries", "-1"], {}, "--retries"),
    (["--retries", "many"], {}, "--retries"),
    (["--color", "sometimes"], {}, "--color"),
    ([], {"CARHELP_TIMEOUT": "zz"}, "CARHELP_TIMEOUT"),
    ([], {"CARHELP_RETRIES": "x"}, "CARHELP_RETRIES"),
    ([], {"CARHELP_API_URL": "ftp://127.0.0.1/"}, "CARHELP_API_URL"),
], ids=["timeout", "timeout-negative", "retries-negative", "retries-word", "color",
        "env-timeout", "env-retries", "env-api-url"])
def test_bad_setting_is_a_usage_error_naming_its_source(offline, args, env, source):
    r = offline(*args, "auth", "status", **env)
    assert r.returncode == 2, r.stderr
    assert r.stdout == ""
    assert source in one_error_line(r.stderr)


def test_command_line_beats_a_bad_environment_value(offline):
    # A bad CARHELP_TIMEOUT is still an error (never silently ignored) ...
    assert offline("auth", "status", CARHELP_TIMEOUT="zz").returncode == 2
    # ... and a good one is overridden by the option: the option's bad value is the error.
    r = offline("auth", "status", "--timeout", "nope", CARHELP_TIMEOUT="5")
    assert r.returncode == 2 and "--timeout" in r.stderr


def test_broken_config_file_names_file_and_line(offline):
    path = write_config(offline, "[default]\napi_url = http://127.0.0.1:1\nthis line is junk\n")
    r = offline("auth", "status")
    assert r.returncode == 2
    first = one_error_line(r.stderr)
    assert f"{path}:3" in first, first


def test_bad_value_in_config_names_file_and_line(offline):
    path = write_config(offline, "[default]\ntimeout = forever\n")
    r = offline("auth", "status")
    assert r.returncode == 2
    assert f"{path}:2" in r.stderr


def test_unknown_profile_is_a_usage_error(offline):
    write_config(offline, "[default]\ntimeout = 5\n")
    r = offline("--profile", "nosuch", "auth", "status")
    assert r.returncode == 2
    assert "nosuch" in r.stderr
    r = offline("auth", "status", CARHELP_PROFILE="nosuch")
    assert r.returncode == 2 and "nosuch" in r.stderr


def test_precedence_default_profile_env_option(offline, server):
    """built-in < [default] < [profile] < env < option, observed through which service a
    request reaches: the live one answers an unknown token with 4, a closed port gives 6."""
    dead = closed_port_url()
    write_config(offline, f"[default]\napi_url = {dead}\n"
                          f"[profile live]\napi_url = {server.url}\n")
    tok = {"CARHELP_TOKEN": "0" * 64, "CARHELP_RETRIES": "0", "CARHELP_API_URL": None}
    assert offline("auth", "status", **tok).returncode == 6
    assert offline("--profile", "live", "auth", "status", **tok).returncode == 4
    r = offline("auth", "status", **tok, CARHELP_PROFILE="live")
    assert r.returncode == 4
    env_dead = dict(tok, CARHELP_API_URL=dead)
    r = offline("--profile", "live", "auth", "status", **env_dead)
    assert r.returncode == 6
    r = offline("--profile", "live", "auth", "status", "--api-url", server.url, **env_dead)
    assert r.returncode == 4
    # --retries on the command line beats CARHELP_RETRIES, and a bad one is named.
    r = offline("auth", "status", "--retries", "x", **tok)
    assert r.returncode == 2 and "--retries" in r.stderr


def test_plain_http_in_a_profile_is_refused(offline):
    write_config(offline, "[profile field]\napi_url = http://example.com\n")
    r = offline("--profile", "field", "auth", "status")
    assert r.returncode == 2 and "loopback" in r.stderr


def test_no_color_commands_skip_a_broken_config(offline):
    write_config(offline, "junk\n")
    assert offline("completion", "bash").returncode == 0
    assert offline("__complete", "").returncode == 0
    assert offline("help").returncode == 0
    assert offline("auth", "status").returncode == 2


# -- plain http only on loopback, and no request for invalid input ---------------------------------

def test_plain_http_to_a_remote_host_is_refused_with_the_reason(offline):
    r = offline("--api-url", "http://example.com", "auth", "status")
    assert r.returncode == 2
    assert "loopback" in r.stderr and "https://" in r.stderr


def test_invalid_url_is_refused_before_any_request(offline):
    # A name that cannot resolve: an attempt would fail with 6 (or hang); refusing is 2, fast.
    start = time.monotonic()
    r = offline("--api-url", "http://carhelp-test.invalid:9", "--timeout", "30", "doctor")
    assert r.returncode == 2, r.stderr
    assert time.monotonic() - start < 2.0 * chtest.SLOW      # SLOW: under valgrind


def test_not_logged_in_is_exit_4_with_the_login_hint(offline):
    r = offline("auth", "status")
    assert r.returncode == 4
    assert "carhelp login" in r.stderr


def test_token_from_env_with_whitespace_is_refused(offline):
    r = offline("auth", "status", CARHELP_TOKEN="abc def")
    assert r.returncode == 2
    assert "CARHELP_TOKEN" in r.stderr
    assert "abc" not in r.stderr


# -- __complete and completion ---------------------------------------------------------------

def complete(run, *words):
    return set(offline_words(run, *words))


def test_complete_commands(offline):
    got = complete(offline, "")
    assert COMMANDS <= got
    assert "__complete" not in got
    assert complete(offline, "au") == {"auth"}


def test_aliases_work_when_typed_but_completion_offers_canonical_names_only(offline):
    got = complete(offline, "")
    assert {"order", "ticket"} <= got and not {"orders", "tickets"} & got
    assert complete(offline, "orders", "") == complete(offline, "order", "")
    r = offline("tickets", "list", "--help")
    assert r.returncode == 0 and "Usage: carhelp ticket list" in r.stdout


def test_complete_subcommands(offline):
    assert complete(offline, "auth", "") == {"status"}
    assert complete(offline, "auth", "s") == {"status"}


def test_complete_options_of_the_command_and_the_globals(offline):
    got = complete(offline, "login", "--")
    assert {"--phone", "--staff", "--with-token", "--json", "--api-url", "--color"} <= got
    assert complete(offline, "login", "--ph") == {"--phone"}


def test_complete_option_choices(offline):
    assert complete(offline, "--color", "") == {"auto", "always", "never"}
    assert complete(offline, "auth", "status", "--color", "a") == {"auto", "always"}
    assert complete(offline, "--color=n") == {"--color=never"}


def test_complete_positional_words_and_help_topics(offline):
    assert complete(offline, "completion", "") == {"bash", "zsh", "fish"}
    assert "auth" in complete(offline, "help", "")
    assert complete(offline, "help", "auth", "") == {"status"}


def test_complete_offers_recent_ids_for_positionals(offline, tmp_path):
    cache = offline.env["CARHELP_CACHE_DIR"]
    with open(os.path.join(cache, "recent-ids"), "w") as f:
        f.write("order ord_20261101_0001\nticket tkt_42\norder ord_20261101_0001\n")
    # `auth status` takes no positional: nothing offered.
    assert complete(offline, "auth", "status", "") == set()


def test_complete_reads_no_config_and_survives_junk(offline):
    write_config(offline, "junk\n")
    assert complete(offline, "logn", "") == set()
    assert complete(offline, "auth", "status", "--timeout", "") == set()


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_completion_prints_the_script(offline, shell):
    r = offline("completion", shell)
    assert r.returncode == 0
    assert "__complete" in r.stdout and len(r.stdout) > 100


def test_completion_for_an_unknown_shell(offline):
    r = offline("completion", "tcsh")
    assert r.returncode == 2
    assert "bash, zsh or fish" in r.stderr


# -- output errors ------------------------------------------------------------------------------

@pytest.mark.parametrize("args", [["--help"], ["--version"], ["completion", "bash"]])
def test_write_error_on_stdout_is_reported(offline, args):
    with open("/dev/full", "w") as full:
        r = subprocess.run([chtest.CARHELP, *args], env=offline.env, stdout=full,
                           stderr=subprocess.PIPE, text=True, timeout=30)
    assert r.returncode == 2
    assert "carhelp: error writing output:" in r.stderr


# -- on a terminal: prompts, Ctrl-C ----------------------------------------------------------

def spawn(args, env, **kw):
    return pexpect.spawn(args[0], args[1:], env=env, encoding="utf-8", timeout=20, **kw)


def test_bare_carhelp_on_a_tty_starts_triage(offline):
    # A bare `carhelp` on a terminal is the guided triage (test_triage.py has the
    # paths); off a terminal it still prints usage and exits 2. End of input stops it with 2.
    child = spawn([chtest.CARHELP], offline.env)
    child.expect("What is the problem")
    child.sendeof()
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 2


def test_ctrl_c_at_a_secret_prompt_exits_130_and_restores_echo(env):
    # The shell ignores SIGINT so only carhelp sees it; stty then shows the terminal state.
    script = f'trap "" INT; "{chtest.CARHELP}" login --staff field01; echo "rc=$?"; stty -a'
    child = spawn(["/bin/sh", "-c", script], env)
    child.expect("Password for field01: ")
    child.send("hunter2")
    time.sleep(0.3)
    child.sendintr()
    child.expect(r"rc=(\d+)")
    assert child.match.group(1) == "130"
    typed = child.before
    child.expect(pexpect.EOF)
    stty = child.before
    assert "hunter2" not in typed
    assert " echo " in f" {stty} ".replace("\r\n", " ").replace(";", " ")
    assert "-echo " not in stty.replace("\r\n", " ")


@pytest.fixture
def silent_server():
    """A loopback port that accepts connections and never answers."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(16)
    yield f"http://127.0.0.1:{s.getsockname()[1]}"
    s.close()


@pytest.mark.parametrize("presses", [1, 2])
def test_ctrl_c_during_a_request_exits_130_at_once(offline, silent_server, presses):
    env = dict(offline.env, CARHELP_API_URL=silent_server, CARHELP_TOKEN="0" * 64)
    child = spawn([chtest.CARHELP, "--timeout", "60", "auth", "status"], env)
    time.sleep(1.0 * chtest.SLOW)       # SLOW: under valgrind the program starts that much slower
    start = time.monotonic()
    for _ in range(presses):
        child.sendintr()
        time.sleep(0.05)
    child.expect(pexpect.EOF, timeout=5 * chtest.SLOW)
    child.close()
    assert child.exitstatus == 130, child.before
    assert time.monotonic() - start < 3 * chtest.SLOW


# -- against the service -------------------------------------------------------------------------

def test_logged_in_status_works_with_globals_after_the_command(logged_in):
    r = logged_in("auth", "status", "--json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert "acc_1001" in json.dumps(doc)
