"""The documentation cannot drift from the program.

The command table is discovered through the real binary only (`carhelp __complete` and
`carhelp help`), never from a list kept here: man/carhelp.1 must document every command,
subcommand and option of the table, and nothing else. The completion scripts that
`carhelp completion SHELL` prints are the files in completions/, byte for byte. The man
pages render with man(1), and carhelp-server.1 documents exactly the options of
`carhelp-server --help`."""
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "pylib"))
import chtest  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
MAN = ROOT / "man" / "carhelp.1"
SERVER_MAN = ROOT / "man" / "carhelp-server.1"


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    return chtest.isolated_env(tmp_path_factory.mktemp("docs"))


def complete(env, *words):
    r = chtest.run(env, "__complete", *words)
    assert r.returncode == 0, f"__complete {words}: exit {r.returncode}: {r.stderr}"
    return [ln for ln in r.stdout.splitlines() if ln]


# -- the command table, as the binary reports it ------------------------------------------

def canonical_name(env, *path):
    """The name `carhelp help PATH` reports in its Usage line (an alias answers with the
    command it stands for: `help tickets` -> ticket)."""
    r = chtest.run(env, "help", *path)
    words = r.stdout.split("\n", 1)[0].split()   # Usage: carhelp NAME [SUB] ...
    if r.returncode != 0 or words[:2] != ["Usage:", "carhelp"] or len(words) < 2 + len(path):
        return None
    return words[1 + len(path)]


def is_subcommand(env, group, name):
    """`carhelp help GROUP NAME` succeeds only when NAME is in GROUP's subcommand table (a
    positional value such as `completion bash` is not)."""
    return chtest.run(env, "help", group, name).returncode == 0


@pytest.fixture(scope="module")
def table(env):
    """{command path (tuple): set of long options}, plus the global options under ()."""
    glob = {o for o in complete(env, "--") if o.startswith("--")}
    assert {"--api-url", "--json", "--color", "--version", "--help"} <= glob, glob
    t = {(): glob}
    tops = complete(env, "")
    assert tops, "__complete '' offered no commands"
    assert "__complete" not in tops, "the hidden command leaked into completion"
    for top in tops:
        if canonical_name(env, top) != top:
            continue   # an alias: documented with the command it stands for
        subs = [c for c in complete(env, top, "")
                if not c.startswith("-") and is_subcommand(env, top, c)
                and canonical_name(env, top, c) == c]
        paths = [(top, s) for s in subs] if subs else [(top,)]
        if subs:
            t[(top,)] = set(complete(env, top, "--")) - glob   # the group itself
        for p in paths:
            t[p] = set(complete(env, *p, "--")) - glob
    # The discovery itself must work, or every check below would pass on an empty table.
    assert {("login",), ("auth", "status"), ("doctor",), ("completion",)} <= set(t), sorted(t)
    return t


# -- the man page, parsed ----------------------------------------------------------------

def sections(text):
    out, name = {}, None
    for line in text.splitlines():
        m = re.match(r"^\.Sh\s+(.*)$", line)
        if m:
            name = m.group(1).strip().strip('"')
            out[name] = []
        elif name:
            out[name].append(line)
    return out


def long_opts(line):
    return {"--" + m for m in re.findall(r"\bFl\s+-([A-Za-z0-9][A-Za-z0-9-]*)", line)}


def parse_commands(lines):
    """{command path: (options named on its .It line, options of its nested list)} from the
    COMMANDS section: depth-1 `.It Cm NAME [SUB]` items, depth-2 `.It Fl -opt` items."""
    cmds, depth, cur = {}, 0, None
    for line in lines:
        if line.startswith(".Bl"):
            depth += 1
        elif line.startswith(".El"):
            depth -= 1
        elif line.startswith(".It") and depth == 1:
            m = re.match(r"^\.It\s+Cm\s+([a-z][a-z0-9-]*)(?:\s+([a-z][a-z0-9-]*))?", line)
            assert m, f"COMMANDS item is not `.It Cm NAME`: {line!r}"
            cur = (m.group(1),) + ((m.group(2),) if m.group(2) else ())
            assert cur not in cmds, f"{' '.join(cur)} documented twice"
            cmds[cur] = (long_opts(line), set())
        elif line.startswith(".It") and depth == 2 and cur:
            cmds[cur][1].update(long_opts(line))
    assert depth == 0, "unbalanced .Bl/.El in COMMANDS"
    return cmds


@pytest.fixture(scope="module")
def man():
    return sections(MAN.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def documented(man):
    assert "COMMANDS" in man, "man/carhelp.1 has no COMMANDS section"
    return parse_commands(man["COMMANDS"])


def test_man_page_has_the_sections_a_reader_expects(man):
    for s in ("NAME", "SYNOPSIS", "DESCRIPTION", "GLOBAL OPTIONS", "COMMANDS", "ENVIRONMENT",
              "FILES", "EXIT STATUS", "EXAMPLES", "SEE ALSO"):
        assert s in man, f"man/carhelp.1 lacks the {s} section"


def test_man_page_documents_every_command_and_no_other(table, documented):
    real = {p for p in table if p}
    # A group is documented through its subcommands (`auth status`), not on its own line.
    groups = {p[:1] for p in real if len(p) == 2}
    missing = sorted(" ".join(p) for p in real - groups - set(documented))
    extra = sorted(" ".join(p) for p in set(documented) - real)
    assert not missing, f"commands missing from man/carhelp.1: {missing}"
    assert not extra, f"man/carhelp.1 documents commands carhelp does not have: {extra}"


def test_man_page_documents_every_option_of_every_command(table, documented):
    problems = []
    for path, (head, items) in documented.items():
        real = table.get(path, set()) - {"--help"}
        name = " ".join(path)
        if real - items:
            problems.append(f"{name}: options not documented: {sorted(real - items)}")
        if items - real:
            problems.append(f"{name}: documents options it does not have: {sorted(items - real)}")
        if head - real:
            problems.append(f"{name}: synopsis names options it does not have: {sorted(head - real)}")
        if real - head:
            problems.append(f"{name}: synopsis leaves out: {sorted(real - head)}")
    assert not problems, "\n".join(problems)


def test_man_page_documents_every_global_option_and_no_other(table, man):
    documented = set()
    for line in man["GLOBAL OPTIONS"]:
        if line.startswith(".It"):
            documented |= long_opts(line)
    real = table[()]
    assert real - documented == set(), f"global options not documented: {sorted(real - documented)}"
    assert documented - real == set(), f"documented global options carhelp does not have: {sorted(documented - real)}"


def test_man_page_exit_status_matches_the_command_line_contract(man):
    codes = [int(m.group(1)) for line in man["EXIT STATUS"]
             for m in [re.match(r"^\.It\s+(\d+)\s*$", line)] if m]
    assert codes == [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 130]


@pytest.mark.parametrize("shell,path", [("bash", "carhelp.bash"), ("zsh", "_carhelp"),
                                        ("fish", "carhelp.fish")])
def test_completion_prints_the_script_in_completions_byte_for_byte(env, shell, path):
    r = subprocess.run([chtest.CARHELP, "completion", shell], env=env, capture_output=True,
                       timeout=30)
    assert r.returncode == 0, r.stderr
    assert r.stdout == (ROOT / "completions" / path).read_bytes()


def test_completion_of_an_unknown_shell_is_a_usage_error(env):
    r = chtest.run(env, "completion", "tcsh")
    assert r.returncode == 2
    assert r.stdout == ""
    assert r.stderr.startswith("carhelp: ")


@pytest.mark.parametrize("page", [MAN, SERVER_MAN], ids=lambda p: p.name)
def test_man_page_renders_with_man(page):
    env = dict(os.environ, MANWIDTH="80", LC_ALL="C.UTF-8")
    r = subprocess.run(["man", "-P", "cat", "-l", str(page)], env=env, capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    # A long literal that cannot be broken is cosmetic; any other complaint is not.
    problems = [ln for ln in r.stderr.splitlines() if ln.strip() and "can't break line" not in ln]
    assert not problems, r.stderr
    name = page.stem.upper()
    assert r.stdout.lstrip().startswith(name), r.stdout[:200]
    assert "EXIT STATUS" in r.stdout and "SEE ALSO" in r.stdout


def test_server_man_page_documents_exactly_the_server_options():
    r = subprocess.run([chtest.SERVER, "--help"], capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    real = set(re.findall(r"^\s+(--[a-z][a-z0-9-]*)", r.stdout, re.M))
    assert {"--listen", "--db", "--seed", "--faults"} <= real, r.stdout
    text = SERVER_MAN.read_text(encoding="utf-8")
    documented = set()
    for line in text.splitlines():
        if line.startswith(".It"):
            documented |= long_opts(line)
    assert real - documented == set(), f"not documented: {sorted(real - documented)}"
    assert documented - real == set(), f"documented but not an option: {sorted(documented - real)}"
