#!/bin/sh
# deps.sh: the dependency step run first by `make check`, `make demo` and `make bench`.
#
# Checks every library with pkg-config and every tool the build, the tests and the demo need.
# All present: prints nothing and exits 0 (it runs on every `make check`, so it must be fast).
# Something missing:
#   - Debian/Ubuntu, and root or passwordless sudo: `apt-get update` once, then installs the
#     packages for what is missing (DEBIAN_FRONTEND=noninteractive), and checks again;
#   - otherwise: prints the exact command to run (apt, dnf and brew) and exits 1.
#
# Usage: scripts/deps.sh [bench] [fuzz] [valgrind]   ("bench" also requires hyperfine, wrk and
#        GNU time; "fuzz" clang with its libFuzzer and sanitizer runtimes, for `make fuzz`;
#        "valgrind" valgrind, for `make check VALGRIND=1`)
# Environment: PKG_CONFIG (default pkg-config), CC (default cc), PYTHON (default /usr/bin/python3),
#              DEPS_NO_INSTALL=1 never installs, only reports (what a non-root user gets).
set -u

PKG_CONFIG=${PKG_CONFIG:-pkg-config}
CC=${CC:-cc}
PYTHON=${PYTHON:-/usr/bin/python3}
NODE_MIN=18          # Node.js >= 18.20: Prism 5.14 needs it (Debian 12 has it in bookworm-security)
NODE_MIN_MINOR=20
WANT_BENCH=0
WANT_FUZZ=0
WANT_VALGRIND=0
for a in "$@"; do
    case $a in
        bench) WANT_BENCH=1 ;;
        fuzz) WANT_FUZZ=1 ;;
        valgrind) WANT_VALGRIND=1 ;;
        -h|--help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "deps.sh: unknown argument: $a" >&2; exit 2 ;;
    esac
done

# One line per requirement: KIND NAME APT-PACKAGE DNF-PACKAGE BREW-FORMULA
#   pc   = pkg-config module, cmd = program on PATH, py = module importable by $PYTHON,
#   node = Node.js >= NODE_MIN.NODE_MIN_MINOR, bashcomp = bash-completion 2.x, cc = the C compiler ($CC),
#   opt  = optional program (noted, never installed on its own), bench = only for `make bench`
#   (a program on PATH, or an absolute path: GNU time must be /usr/bin/time, not the shell's),
#   fuzz = only for `make fuzz` (fuzzrt: clang links a libFuzzer harness with ASan and UBSan),
#   vg   = only for `make check VALGRIND=1`.
# "-" means the system has no package for it (a hint is printed instead).
REQS='
pc   libcurl        libcurl4-openssl-dev libcurl-devel        curl
pc   libcjson       libcjson-dev         cjson-devel          cjson
pc   readline       libreadline-dev      readline-devel       readline
pc   libqrencode    libqrencode-dev      qrencode-devel       qrencode
pc   libmicrohttpd  libmicrohttpd-dev    libmicrohttpd-devel  libmicrohttpd
pc   sqlite3        libsqlite3-dev       sqlite-devel         sqlite
pc   libpng         libpng-dev           libpng-devel         libpng
pc   cmocka         libcmocka-dev        libcmocka-devel      cmocka
pc   inih           libinih-dev          inih-devel           inih
cc   cc             gcc                  gcc                  -
cmd  make           make                 make                 make
cmd  pkg-config     pkg-config           pkgconf-pkg-config   pkg-config
py   pytest         python3-pytest       python3-pytest       -
py   pexpect        python3-pexpect      python3-pexpect      -
py   xdist          python3-pytest-xdist python3-pytest-xdist -
node node           nodejs               nodejs               node
cmd  npm            npm                  npm                  node
cmd  mandoc         mandoc               mandoc               mandoc
cmd  man            man-db               man-db               -
cmd  zbarimg        zbar-tools           zbar                 zbar
cmd  pnmtopng       netpbm               netpbm-progs         netpbm
cmd  rsvg-convert   librsvg2-bin         librsvg2-tools       librsvg
bashcomp bash-completion bash-completion bash-completion      bash-completion@2
cmd  bash           bash                 bash                 bash
cmd  zsh            zsh                  zsh                  zsh
cmd  fish           fish                 fish                 fish
cmd  jq             jq                   jq                   jq
cmd  openssl        openssl              openssl              openssl
cmd  curl           curl                 curl                 curl
cmd  msgfmt         gettext              gettext              gettext
bench hyperfine     hyperfine            hyperfine            hyperfine
bench wrk           wrk                  wrk                  wrk
bench /usr/bin/time time                 time                 gnu-time
opt  clang          clang                clang                llvm
fuzz clang          clang                clang                llvm
fuzzrt libFuzzer    libclang-rt-14-dev   compiler-rt          llvm
vg   valgrind       valgrind             valgrind             -
'

have_cmd() { command -v "$1" >/dev/null 2>&1; }

node_ok() {
    have_cmd node || return 1
    v=$(node --version 2>/dev/null) || return 1
    v=${v#v}; major=${v%%.*}; rest=${v#*.}; minor=${rest%%.*}
    case $major$minor in ''|*[!0-9]*) return 1 ;; esac
    [ "$major" -gt "$NODE_MIN" ] || { [ "$major" -eq "$NODE_MIN" ] && [ "$minor" -ge "$NODE_MIN_MINOR" ]; }
}

bashcomp_ok() {
    # bash-completion 2.x provides _init_completion, which completions/carhelp.bash uses.
    for f in "$("$PKG_CONFIG" --variable=prefix bash-completion 2>/dev/null)/share/bash-completion/bash_completion" \
             /usr/share/bash-completion/bash_completion /usr/local/share/bash-completion/bash_completion \
             /opt/homebrew/share/bash-completion/bash_completion; do
        [ -r "$f" ] && return 0
    done
    return 1
}

# clang builds a libFuzzer harness with ASan and UBSan (Debian ships those runtimes apart).
fuzzrt_ok() {
    have_cmd clang || return 1
    t=$(mktemp -d) || return 1
    printf 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { (void)d; (void)n; return 0; }\n' > "$t/h.c"
    clang -fsanitize=fuzzer,address,undefined -o "$t/h" "$t/h.c" >/dev/null 2>&1
    ok=$?
    rm -rf "$t"
    return $ok
}

# check KIND NAME: 0 when present.
check() {
    case $1 in
        pc)       "$PKG_CONFIG" --exists "$2" 2>/dev/null ;;
        cmd|opt|fuzz|vg) have_cmd "$2" ;;
        fuzzrt)   fuzzrt_ok ;;
        bench)    case $2 in /*) [ -x "$2" ] ;; *) have_cmd "$2" ;; esac ;;
        cc)       # shellcheck disable=SC2086  # CC may carry arguments ("ccache cc")
                  set -- $CC; have_cmd "$1" ;;
        py)       [ -x "$PYTHON" ] && "$PYTHON" -c "import importlib.util, sys; sys.exit(importlib.util.find_spec('$2') is None)" 2>/dev/null ;;
        node)     node_ok ;;
        bashcomp) bashcomp_ok ;;
        *)        return 1 ;;
    esac
}

# Fills MISSING (lines "KIND NAME APT DNF BREW") and OPT_MISSING. Fast path: one pkg-config
# call for all libraries, one python call for both modules.
scan() {
    MISSING=''
    OPT_MISSING=''
    pc_all=$(printf '%s\n' "$REQS" | awk '$1=="pc"{printf "%s ", $2}')
    pc_fast=1
    # shellcheck disable=SC2086  # one word per module
    "$PKG_CONFIG" --exists $pc_all 2>/dev/null || pc_fast=0
    py_fast=1
    [ -x "$PYTHON" ] && "$PYTHON" -c "import importlib.util, sys; sys.exit(any(importlib.util.find_spec(m) is None for m in ('pytest','pexpect','xdist')))" 2>/dev/null || py_fast=0
    while read -r kind name apt dnf brew; do
        [ -n "$kind" ] || continue
        case $kind in
            pc) [ $pc_fast = 1 ] && continue ;;
            py) [ $py_fast = 1 ] && continue ;;
            bench) [ $WANT_BENCH = 1 ] || continue ;;
            fuzz|fuzzrt) [ $WANT_FUZZ = 1 ] || continue ;;
            vg) [ $WANT_VALGRIND = 1 ] || continue ;;
        esac
        if ! check "$kind" "$name"; then
            if [ "$kind" = cc ]; then
                # shellcheck disable=SC2086
                set -- $CC
                name=${1##*/}
                case $name in clang*) apt=clang dnf=clang brew=llvm ;; esac
            fi
            if [ "$kind" = opt ]; then
                OPT_MISSING="$OPT_MISSING $name"
            else
                MISSING="$MISSING$kind $name $apt $dnf $brew
"
            fi
        fi
    done <<EOF
$REQS
EOF
}

# column N of MISSING, without "-" and duplicates
pkgs() { printf '%s' "$MISSING" | awk -v c="$1" 'NF && $c != "-" && !seen[$c]++ {printf "%s%s", sep, $c; sep=" "}'; }
names() { printf '%s' "$MISSING" | awk 'NF {printf "%s%s", sep, $2; sep=" "}'; }

is_debian() {
    [ -r /etc/os-release ] || return 1
    # shellcheck disable=SC1091
    ids=$(. /etc/os-release; echo "${ID:-} ${ID_LIKE:-}")
    case " $ids " in *" debian "*|*" ubuntu "*) have_cmd apt-get ;; *) return 1 ;; esac
}

# How we can become root without asking: "" (we are root), "sudo -n", or nothing (return 1).
root_cmd() {
    if [ "$(id -u)" = 0 ]; then ROOT=''; return 0; fi
    if have_cmd sudo && sudo -n true 2>/dev/null; then ROOT='sudo -n '; return 0; fi
    return 1
}

print_commands() {
    apt=$(pkgs 3); dnf=$(pkgs 4); brew=$(pkgs 5)
    echo "To install them, run the command for your system, then run make again:" >&2
    [ -n "$apt" ]  && echo "  Debian/Ubuntu:  sudo apt-get update && sudo apt-get install -y $apt" >&2
    [ -n "$dnf" ]  && echo "  Fedora/RHEL:    sudo dnf install -y $dnf" >&2
    [ -n "$brew" ] && echo "  macOS (brew):   brew install $brew" >&2
    case " $(names) " in *" pytest "*|*" pexpect "*|*" xdist "*)
        echo "  (brew has no pytest/pexpect/pytest-xdist: python3 -m pip install pytest pexpect pytest-xdist)" >&2 ;;
    esac
    node_hint
}

node_hint() {
    if have_cmd node && ! node_ok; then
        echo "  Node.js $(node --version 2>/dev/null) is too old: the API tools (Redocly, Prism) need Node >= $NODE_MIN.$NODE_MIN_MINOR." >&2
        echo "  Debian 12 has it with its security updates (bookworm-security, nodejs 18.20); elsewhere install Node $NODE_MIN.$NODE_MIN_MINOR+ from nodejs.org or your vendor." >&2
    fi
}

scan
if [ -z "$MISSING" ]; then
    [ -n "$OPT_MISSING" ] && [ -z "${DEPS_QUIET:-}" ] && [ -z "${DEPS_NOTED:-}" ] && \
        echo "deps: optional, not installed:$OPT_MISSING (only needed for CC=clang builds)" >&2
    exit 0
fi

echo "deps: missing: $(names)" >&2
if ! is_debian; then
    print_commands
    exit 1
fi
if [ -n "${DEPS_NO_INSTALL:-}" ] || ! root_cmd; then
    [ -z "${DEPS_NO_INSTALL:-}" ] && echo "deps: not root and no passwordless sudo, so nothing was installed." >&2
    print_commands
    exit 1
fi

apt=$(pkgs 3)
# While installing anyway, bring the optional tools too (clang: `make CC=clang`).
for o in $OPT_MISSING; do
    apt="$apt $(printf '%s\n' "$REQS" | awk -v n="$o" '$1=="opt" && $2==n {print $3}')"
done
echo "deps: installing: $apt" >&2
echo "+ ${ROOT}apt-get update" >&2
# shellcheck disable=SC2086  # ROOT is "" or "sudo -n "
if ! ${ROOT}env DEBIAN_FRONTEND=noninteractive apt-get update -q >&2; then
    echo "deps: apt-get update failed" >&2
    print_commands
    exit 1
fi
echo "+ ${ROOT}apt-get install -y $apt" >&2
# shellcheck disable=SC2086
if ! ${ROOT}env DEBIAN_FRONTEND=noninteractive apt-get install -y -q $apt >&2; then
    echo "deps: apt-get install failed" >&2
    print_commands
    exit 1
fi

scan
if [ -n "$MISSING" ]; then
    echo "deps: still missing after installing: $(names)" >&2
    print_commands
    exit 1
fi
echo "deps: all dependencies installed" >&2
exit 0
