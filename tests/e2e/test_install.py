"""`make install` puts the programs, the man pages and the three completion scripts where the
system's tools look for them (asked of the tools themselves: pkg-config, zsh's $fpath, fish's
$fish_complete_path) and the message catalogues under DATADIR/locale, honouring PREFIX and DESTDIR; `make uninstall` removes them again; and
installing does not rebuild what `make` built."""
import hashlib
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "pylib"))
import chtest  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


def make_env():
    """The caller's make variables (BUILD, SANITIZE, WERROR, CC... arrive in MAKEFLAGS when the
    suite runs under make) without the parent's jobserver, whose descriptors are not ours."""
    env = dict(os.environ)
    flags = [f for f in env.get("MAKEFLAGS", "").split()
             if not f.startswith("--jobserver") and not f.startswith("-j")]
    env["MAKEFLAGS"] = " ".join(flags)
    env.pop("MFLAGS", None)
    env.pop("MAKELEVEL", None)
    return env


def build_vars():
    """BUILD, CC, WERROR and SANITIZE as the programs under test were built (read back from the
    flags stamp the Makefile keeps), so pytest run by hand after `make check` agrees too."""
    build = Path(chtest.PROGRAM).parent
    stamp = (build / ".build-flags").read_text()
    san = re.search(r"-fsanitize=(\S+)", stamp)
    return [f"BUILD={build}", f"CC={stamp.split()[0]}", f"WERROR={'1' if '-Werror' in stamp.split() else ''}",
            f"SANITIZE={san.group(1) if san else ''}"]


def make(*args):
    r = subprocess.run(["make", "--no-print-directory", "-C", str(ROOT), *build_vars(), *args],
                       env=make_env(), capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, f"make {' '.join(args)} failed:\n{r.stdout}\n{r.stderr}"
    return r


def digest(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def sources_newer_than(t):
    """Sources edited after the build (a developer's tree while the suite runs)."""
    return [p for d in ("cli", "server", "completions", "scripts") for p in (ROOT / d).rglob("*")
            if p.is_file() and p.stat().st_mtime > t]


def pkg_config_dir(module, datadir):
    r = subprocess.run(["pkg-config", f"--define-variable=datadir={datadir}",
                        "--variable=completionsdir", module], capture_output=True, text=True)
    return r.stdout.strip() if r.returncode == 0 and r.stdout.strip() else None


def zsh_fpath():
    r = subprocess.run(["zsh", "-f", "-c", "print -l $fpath"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return r.stdout.split()


def fish_complete_path(home):
    # Without --no-config: fish sets $fish_complete_path in its startup; HOME is private.
    env = dict(os.environ, HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"))
    r = subprocess.run(["fish", "-c", "printf '%s\\n' $fish_complete_path"],
                       capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stderr
    return r.stdout.split()


def installed_files(prefix):
    datadir = f"{prefix}/share"
    bash_dir = pkg_config_dir("bash-completion", datadir) or f"{datadir}/bash-completion/completions"
    fish_dir = pkg_config_dir("fish", datadir) or f"{datadir}/fish/vendor_completions.d"
    zsh_dir = [d for d in zsh_fpath() if d.startswith(datadir + "/zsh/")
               and d.endswith(("site-functions", "vendor-completions"))]
    assert zsh_dir, f"zsh reads no completion folder under {datadir}: {zsh_fpath()}"
    return {
        "bin": f"{prefix}/bin/carhelp",
        "server": f"{prefix}/bin/carhelp-server",
        "man": f"{prefix}/share/man/man1/carhelp.1",
        "server_man": f"{prefix}/share/man/man1/carhelp-server.1",
        "bash": f"{bash_dir}/carhelp",
        "zsh_dirs": zsh_dir,
        "fish": f"{fish_dir}/carhelp.fish",
        "mo": f"{datadir}/locale/zh_CN/LC_MESSAGES/carhelp.mo",
    }


@pytest.mark.parametrize("prefix", ["/usr", "/usr/local"])
def test_install_puts_everything_in_the_standard_places_and_uninstall_removes_it(tmp_path, prefix):
    for tool in ("make", "zsh", "fish", "pkg-config"):
        assert shutil.which(tool), f"{tool} is not installed (run `make deps`)"
    # make, as this test calls it, sees the flags the programs were built with...
    build = Path(chtest.PROGRAM).parent
    flags = make("-s", "print-BUILD_FLAGS").stdout
    assert flags == (build / ".build-flags").read_text(), \
        "make install would rebuild with other flags than the build's"
    # ...so installing copies what make built, unless a source changed since then.
    before = digest(chtest.PROGRAM), digest(chtest.SERVER)
    built_at = min(Path(chtest.PROGRAM).stat().st_mtime, Path(chtest.SERVER).stat().st_mtime)
    dest = tmp_path / "stage"
    make("install", f"DESTDIR={dest}", f"PREFIX={prefix}")
    if not sources_newer_than(built_at):
        assert (digest(chtest.PROGRAM), digest(chtest.SERVER)) == before, \
            "make install rebuilt the programs instead of installing what make built"
    before = digest(chtest.PROGRAM), digest(chtest.SERVER)

    want = installed_files(prefix)
    staged = lambda p: Path(str(dest) + p)  # noqa: E731

    for key in ("bin", "server"):
        f = staged(want[key])
        assert f.is_file(), f"{want[key]} not installed"
        assert os.access(f, os.X_OK)
    assert digest(staged(want["bin"])) == before[0]
    r = subprocess.run([str(staged(want["bin"])), "--version"], capture_output=True, text=True,
                       env=chtest.isolated_env(tmp_path))
    assert r.returncode == 0 and "0." in r.stdout, r

    assert staged(want["man"]).read_bytes() == (ROOT / "man/carhelp.1").read_bytes()
    assert staged(want["server_man"]).read_bytes() == (ROOT / "man/carhelp-server.1").read_bytes()

    assert staged(want["bash"]).read_bytes() == (ROOT / "completions/carhelp.bash").read_bytes()
    assert staged(want["fish"]).read_bytes() == (ROOT / "completions/carhelp.fish").read_bytes()
    if prefix == "/usr":
        assert str(Path(want["fish"]).parent) in fish_complete_path(tmp_path)
    zsh = [staged(d) / "_carhelp" for d in want["zsh_dirs"] if (staged(d) / "_carhelp").exists()]
    assert len(zsh) == 1, f"_carhelp not in exactly one of zsh's folders {want['zsh_dirs']}"
    assert zsh[0].read_bytes() == (ROOT / "completions/_carhelp").read_bytes()
    # The Chinese catalogue, as msgfmt built it next to the binary.
    assert staged(want["mo"]).read_bytes() == \
        (build / "locale/zh_CN/LC_MESSAGES/carhelp.mo").read_bytes()
    for f in [staged(want[k]) for k in ("man", "server_man", "bash", "fish", "mo")] + zsh:
        assert f.stat().st_mode & 0o777 == 0o644, f"{f} mode {oct(f.stat().st_mode)}"

    make("uninstall", f"DESTDIR={dest}", f"PREFIX={prefix}")
    left = [str(p.relative_to(dest)) for p in dest.rglob("*") if not p.is_dir()]
    assert left == [], f"make uninstall left: {left}"
