"""The completion scripts in completions/ work in the real shells: bash with bash-completion,
zsh with compinit, fish. Each shell runs the script from the repository with the built carhelp
first on PATH, so the candidates come from the real `carhelp __complete`."""
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pexpect
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "pylib"))
import chtest  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
COMPLETIONS = ROOT / "completions"
BASH_COMPLETION = "/usr/share/bash-completion/bash_completion"

# (command line up to the cursor, candidates that must be offered, candidates that must not)
CASES = [
    ("carhelp au", {"auth"}, {"login", "--api-url"}),
    ("carhelp auth ", {"status"}, {"login", "auth"}),
    ("carhelp login --p", {"--phone"}, {"--staff", "login"}),
    ("carhelp --color ", {"auto", "always", "never"}, {"auth", "--json"}),
]
IDS = ["command", "subcommand", "option", "option-value"]


def shell_env(tmp_path):
    """carhelp from this build first on PATH, private HOME and carhelp folders."""
    env = chtest.isolated_env(tmp_path)
    bindir = tmp_path / "bin"
    bindir.mkdir(exist_ok=True)
    link = bindir / "carhelp"
    if not link.exists():
        link.symlink_to(chtest.CARHELP)
    env["PATH"] = f"{bindir}{os.pathsep}{env.get('PATH', '/usr/bin:/bin')}"
    return env


def need(program):
    path = shutil.which(program)
    if not path:
        pytest.fail(f"{program} is not installed (run `make deps`)")
    return path


def check(got, want, unwanted, line):
    assert want <= got, f"{line!r}: expected {sorted(want)} among {sorted(got)}"
    assert not (unwanted & got), f"{line!r}: unexpected {sorted(unwanted & got)} in {sorted(got)}"


# -- bash -------------------------------------------------------------------------------------

def bash_words(line):
    """COMP_WORDS / COMP_CWORD as bash builds them: split on blanks, '=' is its own word."""
    words = []
    for tok in line.split():
        parts = re.split(r"(=)", tok)
        words.extend(p for p in parts if p != "")
    if line.endswith(" "):
        words.append("")
    return words, len(words) - 1


def bash_complete(env, line):
    need("bash")
    assert os.path.exists(BASH_COMPLETION), "bash-completion is not installed (run `make deps`)"
    words, cword = bash_words(line)
    quoted = " ".join("'" + w.replace("'", "'\\''") + "'" for w in words)
    script = f"""
source {BASH_COMPLETION}
source {COMPLETIONS / 'carhelp.bash'}
[[ $(complete -p carhelp) == *"-F _carhelp"* ]] || {{ echo "carhelp.bash did not register _carhelp" >&2; exit 3; }}
COMP_LINE='{line}'
COMP_POINT=${{#COMP_LINE}}
COMP_WORDS=({quoted})
COMP_CWORD={cword}
COMP_TYPE=9 COMP_KEY=9
_carhelp carhelp "${{COMP_WORDS[COMP_CWORD]}}" "${{COMP_WORDS[COMP_CWORD-1]}}"
printf '%s\\n' "${{COMPREPLY[@]}}"
"""
    r = subprocess.run(["bash", "--norc", "--noprofile", "-c", script], env=env,
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    return {c for c in r.stdout.splitlines() if c}


@pytest.mark.parametrize("line,want,unwanted", CASES, ids=IDS)
def test_bash_completes(tmp_path, line, want, unwanted):
    check(bash_complete(shell_env(tmp_path), line), want, unwanted, line)


def test_bash_completes_value_after_equals(tmp_path):
    # `--color=<TAB>`: bash splits at '=', the script completes the value part only.
    got = bash_complete(shell_env(tmp_path), "carhelp --color=al")
    assert got == {"always"}


# -- fish -------------------------------------------------------------------------------------

def fish_complete(env, line):
    need("fish")
    cmd = f"source {COMPLETIONS / 'carhelp.fish'}; complete -C '{line}'"
    r = subprocess.run(["fish", "--no-config", "-c", cmd], env=env, capture_output=True,
                       text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    return {ln.split("\t", 1)[0] for ln in r.stdout.splitlines() if ln}


@pytest.mark.parametrize("line,want,unwanted", CASES, ids=IDS)
def test_fish_completes(tmp_path, line, want, unwanted):
    check(fish_complete(shell_env(tmp_path), line), want, unwanted, line)


# -- zsh --------------------------------------------------------------------------------------
# zsh completes only inside its line editor, so an interactive `zsh -f` runs in a pty. A
# compadd wrapper prints every match the completion function offers (after zsh's own prefix
# filtering) between markers; TAB is bound to a widget that completes and then prints an end
# marker. Markers are split in the setup text so the terminal's echo of it never matches.

ZSH_SETUP = r"""
PS1='%% '; RPS1=''; unsetopt zle_bracketed_paste 2>/dev/null
fpath=({fpath} $fpath); autoload -Uz compinit; compinit -u -d {dump}
compadd() {{ local -a __h; builtin compadd -O __h "$@"; print -rn -- $'\n'; print -rl -- '<''<'${{^__h}}'>>'; builtin compadd "$@" }}
zle -C _t_complete complete-word _main_complete
_t_tab() {{ zle _t_complete; print -rn -- $'\n__END'$'_OF_COMPLETION__\n'; zle send-break }}
zle -N _t_tab; bindkey '^I' _t_tab
echo ZSH_''READY
"""


@pytest.fixture(scope="module")
def zsh(tmp_path_factory):
    need("zsh")
    tmp = tmp_path_factory.mktemp("zsh")
    env = shell_env(tmp)
    env["ZDOTDIR"] = str(tmp)
    fpath = tmp / "fpath"
    fpath.mkdir()
    shutil.copy(COMPLETIONS / "_carhelp", fpath / "_carhelp")
    child = pexpect.spawn("zsh", ["-f", "-i"], env=env, encoding="utf-8", timeout=20,
                          dimensions=(50, 300))
    for ln in ZSH_SETUP.format(fpath=fpath, dump=tmp / ".zcompdump").strip().splitlines():
        child.sendline(ln)
    child.expect("ZSH_READY\r\n")
    yield child
    child.sendline("exit")
    child.close(force=True)


def zsh_complete(child, line):
    child.send(line + "\t")
    child.expect("__END_OF_COMPLETION__")
    return set(re.findall(r"<<(.*?)>>", child.before))


@pytest.mark.parametrize("line,want,unwanted", CASES, ids=IDS)
def test_zsh_completes(zsh, line, want, unwanted):
    check(zsh_complete(zsh, line), want, unwanted, line)


def test_zsh_script_also_works_when_sourced(tmp_path):
    # `source <(carhelp completion zsh)` after compinit registers the function for carhelp.
    need("zsh")
    env = shell_env(tmp_path)
    script = (f"autoload -Uz compinit; compinit -u -d {tmp_path}/.zcompdump; "
              f"source {COMPLETIONS / '_carhelp'}; print -r -- $_comps[carhelp]")
    r = subprocess.run(["zsh", "-f", "-c", script], env=env, capture_output=True, text=True,
                       timeout=30)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "_carhelp"
