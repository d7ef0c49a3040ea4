# carhelp: GNU make + pkg-config. `make demo` and `make check` are the two commands a
# newcomer needs; both run the dependency step first.
PREFIX      ?= /usr/local
DESTDIR     ?=
BINDIR      ?= $(PREFIX)/bin
MANDIR      ?= $(PREFIX)/share/man
DATADIR     ?= $(PREFIX)/share
# Completion folders: where bash-completion's and fish's pkg-config files say (relative to
# DATADIR, so PREFIX and DESTDIR are honoured), else the upstream defaults. zsh has no .pc:
# Debian's zsh reads /usr/share/zsh/vendor-completions (its site-functions is /usr/local's).
BASHCOMPDIR ?= $(strip $(or $(shell $(PKG_CONFIG) --define-variable=datadir=$(DATADIR) --define-variable=prefix=$(PREFIX) \
                   --variable=completionsdir bash-completion 2>/dev/null),$(DATADIR)/bash-completion/completions))
FISHCOMPDIR ?= $(strip $(or $(shell $(PKG_CONFIG) --define-variable=datadir=$(DATADIR) --define-variable=prefix=$(PREFIX) \
                   --variable=completionsdir fish 2>/dev/null),$(DATADIR)/fish/vendor_completions.d))
ZSHCOMPDIR  ?= $(strip $(if $(and $(filter /usr,$(PREFIX)),$(wildcard /usr/share/zsh/vendor-completions)),\
                   $(DATADIR)/zsh/vendor-completions,$(DATADIR)/zsh/site-functions))
PKG_CONFIG  ?= pkg-config
CC          ?= cc
JOBS        ?= $(shell nproc 2>/dev/null || echo 2)
PYTHON      ?= /usr/bin/python3
BUILD       ?= build
SANITIZE    ?=
PYTEST_FLAGS ?= -q -rfEs -p no:cacheprovider
# The e2e and contract suites run on TEST_JOBS pytest-xdist workers (1: in one process); each
# worker has its own service, and every test its own folders and ports.
TEST_JOBS   ?= $(JOBS)
PYTEST_XDIST = $(if $(filter-out 0 1,$(TEST_JOBS)),$(shell $(PYTHON) -c 'import xdist' 2>/dev/null && echo '-n $(TEST_JOBS)'))
# VALGRIND=1 (`make check VALGRIND=1`): the e2e suite starts every carhelp under valgrind
# memcheck; a memory error or a definite/indirect leak fails it (tests/pylib/chtest.py writes the
# wrapper; tests/valgrind.supp; one log per process in $(BUILD)/valgrind/logs/).
VALGRIND    ?=
# The e2e suite's files (CI runs a part of it under valgrind: .ci/run, docs/DECISIONS.md).
E2E_TESTS   ?= tests/e2e
comma       := ,
WERROR      ?=
VERSION     := 0.1.0
DEFAULT_API_URL ?= http://127.0.0.1:8765

CLI_PKGS    := libcurl libcjson readline libqrencode libpng inih
# libcurl is dlopen'ed on first use (cli/core/curl_dl.c) so that commands which never touch
# the network start without loading it and its thirty dependencies. CURL_DLOPEN=0 links it.
CURL_DLOPEN ?= 1
CURL_SONAME ?= libcurl.so.4
ifeq ($(CURL_DLOPEN),1)
CLI_LINK_PKGS := $(filter-out libcurl,$(CLI_PKGS))
CLI_LINK_EXTRA := -ldl -lpthread
CPPFLAGS += -DCARHELP_CURL_DLOPEN -DCURL_SONAME='"$(CURL_SONAME)"'
else
CLI_LINK_PKGS := $(CLI_PKGS)
CLI_LINK_EXTRA :=
endif
CURL_TLS_BACKEND := $(shell curl-config --ssl-backends 2>/dev/null | cut -d' ' -f1)
ifneq ($(CURL_TLS_BACKEND),)
CPPFLAGS += -DCURL_TLS_BACKEND='"$(CURL_TLS_BACKEND)"'
endif
SERVER_PKGS := libmicrohttpd sqlite3 libcjson
TEST_PKGS   := cmocka

CFLAGS   ?= -O2 -g
CFLAGS   += -std=c11 -Wall -Wextra -Wshadow -Wstrict-prototypes -Wformat=2 -fno-common
CPPFLAGS += -D_GNU_SOURCE -MMD -MP -Icli -Icli/core
CPPFLAGS += -DCARHELP_VERSION='"$(VERSION)"' -DDEFAULT_API_URL='"$(DEFAULT_API_URL)"'
# The installed catalogues' folder, compiled into cli objects but kept out of the flags stamp:
# `make install PREFIX=...` must not rebuild (the binary also looks in ../share/locale).
LOCALEDIR   ?= $(DATADIR)/locale
ifneq ($(WERROR),)
CFLAGS   += -Werror
endif
ifneq ($(SANITIZE),)
CFLAGS   += -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
LDFLAGS  += -fsanitize=$(SANITIZE)
endif

# Objects depend on the compiler and flags they were built with (git's GIT-CFLAGS idea), so
# `make CC=clang`, `WERROR=1` or `SANITIZE=...` in an existing BUILD folder rebuilds what changed.
FLAGS_STAMP := $(BUILD)/.build-flags
BUILD_FLAGS := $(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) $(PKG_CONFIG)
TRACK_FLAGS := $(subst ','\'',$(BUILD_FLAGS))

# pkg-config is asked only when building, so `make deps` works on a bare machine.
pc_cflags = $(shell $(PKG_CONFIG) --cflags $(1) 2>/dev/null)
pc_libs   = $(shell $(PKG_CONFIG) --libs $(1) 2>/dev/null)

CORE_SRC   := $(wildcard cli/core/*.c)
CLI_SRC    := $(wildcard cli/*.c)
SERVER_SRC := $(wildcard server/*.c)
UNIT_SRC   := $(wildcard tests/unit/test_*.c)

CORE_OBJ   := $(CORE_SRC:%.c=$(BUILD)/%.o)
CLI_OBJ    := $(CLI_SRC:%.c=$(BUILD)/%.o) $(BUILD)/gen/completion_scripts.o
COMPLETIONS := completions/carhelp.bash completions/_carhelp completions/carhelp.fish
SERVER_OBJ := $(SERVER_SRC:%.c=$(BUILD)/%.o)
UNIT_BIN   := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
# The fuzz harnesses (tests/fuzz/fuzz_T.c), and each built with replay.c for `make unit`.
FUZZ_TARGETS := $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_REPLAY  := $(FUZZ_TARGETS:%=$(BUILD)/tests/fuzz/replay_%)

CARHELP := $(BUILD)/carhelp
# Message catalogues: po/LANG.po -> $(BUILD)/locale/LANG/LC_MESSAGES/carhelp.mo (next to the
# binary, where an uninstalled build/carhelp finds them; see cli/i18n.h).
PO_LANGS := $(patsubst po/%.po,%,$(wildcard po/*.po))
MO_FILES := $(PO_LANGS:%=$(BUILD)/locale/%/LC_MESSAGES/carhelp.mo)
POT      ?= po/carhelp.pot
XGETTEXT_FLAGS := -k_ -kN_ -kerr_set:5 -kerr_hint:2 --flag=err_set:5:c-format --flag=err_hint:2:c-format \
                  --from-code=UTF-8 --add-comments=TRANSLATORS --package-name=carhelp \
                  --package-version=$(VERSION) --msgid-bugs-address=carhelp --sort-by-file
SERVER  := $(BUILD)/carhelp-server
CORELIB := $(BUILD)/libcarhelpcore.a

# The sub-make of `make check`: -j$(JOBS) unless the caller chose a -j already.
SUBMAKE = $(MAKE) --no-print-directory $(if $(filter -j%,$(MAKEFLAGS)),,-j$(JOBS))

.PHONY: all deps tools check unit e2e contract lint lint-api lint-man demo install uninstall clean bench fuzz soak pot FORCE
all: $(CARHELP) $(SERVER) $(MO_FILES)

$(BUILD)/locale/%/LC_MESSAGES/carhelp.mo: po/%.po
	@mkdir -p $(@D)
	msgfmt -c --check-format -o $@ $<

# `make pot` regenerates the template from the sources (POT=FILE writes elsewhere).
pot:
	xgettext $(XGETTEXT_FLAGS) -o $(POT) $(sort $(CLI_SRC) $(CORE_SRC))

$(FLAGS_STAMP): FORCE
	@mkdir -p $(@D)
	@if [ x'$(TRACK_FLAGS)' != x"$$(cat $@ 2>/dev/null)" ]; then echo '$(TRACK_FLAGS)' > $@; fi

$(BUILD)/cli/%.o: LOCALE_CPPFLAGS = -DLOCALEDIR='"$(LOCALEDIR)"'
$(BUILD)/cli/%.o: cli/%.c $(FLAGS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(LOCALE_CPPFLAGS) $(call pc_cflags,$(CLI_PKGS)) $(CFLAGS) -c -o $@ $<

$(BUILD)/server/%.o: server/%.c $(FLAGS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -Iserver $(call pc_cflags,$(SERVER_PKGS)) $(CFLAGS) -c -o $@ $<

$(BUILD)/gen/completion_scripts.c: $(COMPLETIONS) scripts/embed.sh
	@mkdir -p $(@D)
	scripts/embed.sh $@ completion_bash completions/carhelp.bash \
	    completion_zsh completions/_carhelp completion_fish completions/carhelp.fish

$(BUILD)/gen/%.o: $(BUILD)/gen/%.c $(FLAGS_STAMP)
	$(CC) $(CFLAGS) -c -o $@ $<

$(CORELIB): $(CORE_OBJ)
	@mkdir -p $(@D)
	rm -f $@ && $(AR) rcs $@ $^

$(CARHELP): $(CLI_OBJ) $(CORELIB)
	$(CC) $(LDFLAGS) -o $@ $(CLI_OBJ) $(CORELIB) $(call pc_libs,$(CLI_LINK_PKGS)) $(CLI_LINK_EXTRA) -lm

$(SERVER): $(SERVER_OBJ)
	$(CC) $(LDFLAGS) -o $@ $^ $(call pc_libs,$(SERVER_PKGS)) -lcrypt -lpthread -lm

$(BUILD)/tests/%: tests/unit/%.c $(CORELIB) $(FLAGS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(call pc_cflags,$(CLI_PKGS) $(TEST_PKGS)) $(CFLAGS) $(LDFLAGS) -o $@ $< $(CORELIB) \
	    $(call pc_libs,$(CLI_LINK_PKGS) $(TEST_PKGS)) $(CLI_LINK_EXTRA) -lm

deps:
	@PKG_CONFIG='$(PKG_CONFIG)' CC='$(CC)' PYTHON='$(PYTHON)' scripts/deps.sh $(if $(VALGRIND),valgrind)

tools:
	@scripts/tools.sh

# Everything a change must pass. Warnings are errors here.
# Each step is its own sub-make (WERROR=1 throughout, so nothing is rebuilt without it), in
# this order, stopping at the first failure.
check: deps
	@echo "== build ($(CC), -Werror$(if $(SANITIZE),$(comma) -fsanitize=$(SANITIZE)), $(BUILD)/)"
	@$(SUBMAKE) WERROR=1 all $(UNIT_BIN) $(FUZZ_REPLAY)
	@echo "== tools (pinned npm tools in tools/node_modules)"
	@$(SUBMAKE) WERROR=1 tools
	@echo "== unit tests"
	@$(MAKE) --no-print-directory WERROR=1 unit
	@echo "== lint"
	@$(MAKE) --no-print-directory WERROR=1 lint
	@echo "== end-to-end tests$(if $(VALGRIND), (every carhelp under valgrind))"
	@$(MAKE) --no-print-directory WERROR=1 e2e
	@echo "== contract tests (through Prism)"
	@$(MAKE) --no-print-directory WERROR=1 contract
	@echo "== make check: all passed ($(BUILD)/$(if $(SANITIZE), SANITIZE=$(SANITIZE)))"

unit: $(UNIT_BIN) $(FUZZ_REPLAY)
	@set -e; n=0; for t in $(UNIT_BIN); do echo "== $$t"; $$t; n=$$((n + 1)); done; \
	    echo "unit: $$n test programs passed"
	@set -e; for t in $(FUZZ_TARGETS); do $(BUILD)/tests/fuzz/replay_$$t \
	    tests/fuzz/regressions/$$t tests/fuzz/corpus/$$t; done

lint: lint-api lint-man

lint-api:
	@scripts/lint-api.sh

lint-man:
	@scripts/lint-man.sh

e2e: all
	CARHELP_BIN=$(abspath $(CARHELP)) CARHELP_SERVER_BIN=$(abspath $(SERVER)) \
	    $(if $(VALGRIND),CARHELP_VALGRIND=$(abspath $(BUILD))/valgrind) \
	    $(PYTHON) -m pytest $(PYTEST_FLAGS) $(PYTEST_XDIST) $(E2E_TESTS)

contract: all
	CARHELP_BIN=$(abspath $(CARHELP)) CARHELP_SERVER_BIN=$(abspath $(SERVER)) \
	    $(PYTHON) -m pytest $(PYTEST_FLAGS) $(PYTEST_XDIST) tests/contract

demo: deps
	@$(MAKE) --no-print-directory all
	@CARHELP_BIN=$(abspath $(CARHELP)) CARHELP_SERVER_BIN=$(abspath $(SERVER)) scripts/demo.sh

# deps first, then the build in a new make (pkg-config flags are read when make starts), as demo.
bench:
	@PKG_CONFIG='$(PKG_CONFIG)' CC='$(CC)' PYTHON='$(PYTHON)' scripts/deps.sh bench
	@$(MAKE) --no-print-directory all
	@CARHELP_BIN=$(abspath $(CARHELP)) CARHELP_SERVER_BIN=$(abspath $(SERVER)) bench/run.sh

# The service under load (docs/DECISIONS.md "Reliability and security"): wrk creating tickets from 64 connections for SOAK_SECONDS,
# then SIGTERM under load and a restart; exit 1 on any 5xx, socket error, lost or duplicated
# ticket (tests/load/soak.py). CI runs it short: `make soak SOAK_SECONDS=5`.
SOAK_SECONDS ?= 30
soak:
	@PKG_CONFIG='$(PKG_CONFIG)' CC='$(CC)' PYTHON='$(PYTHON)' scripts/deps.sh bench
	@$(MAKE) --no-print-directory all
	@CARHELP_SERVER_BIN=$(abspath $(SERVER)) $(PYTHON) tests/load/soak.py --seconds $(SOAK_SECONDS)

# Fuzzing (tests/fuzz/, docs/DECISIONS.md "Fuzzing"): one libFuzzer harness per target,
# built with clang -fsanitize=fuzzer,address,undefined into $(BUILD)/fuzz/. `make fuzz` runs
# each for FUZZ_SECONDS (CI: 60), -j$(JOBS) at a time, from the seeds in tests/fuzz/corpus/T/
# (new inputs go to $(BUILD)/fuzz/corpus/T/). A crash fails the run and leaves its input in
# $(BUILD)/fuzz/crashes/T/; once fixed it goes to tests/fuzz/regressions/T/, which `make unit`
# replays (with the seeds) through the same harnesses built with $(CC) and replay.c.
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 300
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_CFLAGS  := -O1 -g -std=c11 -Wall -Wextra $(FUZZ_SAN)
FUZZ_OBJ     := $(BUILD)/fuzz/obj
FUZZ_CORELIB := $(BUILD)/fuzz/libcarhelpcore.a
FUZZ_CLI_OBJ := $(patsubst %.c,$(FUZZ_OBJ)/%.o,$(filter-out cli/main.c,$(CLI_SRC))) \
                $(FUZZ_OBJ)/gen/completion_scripts.o
FUZZ_BIN     := $(FUZZ_TARGETS:%=$(BUILD)/fuzz/fuzz_%)
# Per target: the HTTP stub instead of http.c (response), the CLI frame without main.c (complete).
fuzz_extra = $(if $(filter response,$(1)),$(2)/tests/fuzz/http_stub.$(3)) \
             $(if $(filter complete,$(1)),$(4))

$(FUZZ_OBJ)/cli/%.o: LOCALE_CPPFLAGS = -DLOCALEDIR='"$(LOCALEDIR)"'
$(FUZZ_OBJ)/%.o: %.c
	@mkdir -p $(@D)
	$(FUZZ_CC) $(CPPFLAGS) $(LOCALE_CPPFLAGS) -Itests/fuzz $(call pc_cflags,$(CLI_PKGS)) \
	    $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

$(FUZZ_OBJ)/gen/%.o: $(BUILD)/gen/%.c
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -c -o $@ $<

$(FUZZ_CORELIB): $(CORE_SRC:%.c=$(FUZZ_OBJ)/%.o)
	rm -f $@ && $(AR) rcs $@ $^

$(BUILD)/fuzz/fuzz_%: $(FUZZ_OBJ)/tests/fuzz/fuzz_%.o $(FUZZ_OBJ)/tests/fuzz/fuzz.o \
                      $(FUZZ_OBJ)/tests/fuzz/http_stub.o $(FUZZ_CLI_OBJ) $(FUZZ_CORELIB)
	$(FUZZ_CC) $(FUZZ_SAN) -fsanitize=fuzzer -o $@ $(filter %/fuzz_$*.o %/fuzz.o,$^) \
	    $(call fuzz_extra,$*,$(FUZZ_OBJ),o,$(FUZZ_CLI_OBJ)) $(FUZZ_CORELIB) \
	    $(call pc_libs,$(CLI_LINK_PKGS)) $(CLI_LINK_EXTRA) -lm

$(BUILD)/tests/fuzz/replay_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.c tests/fuzz/replay.c \
                              tests/fuzz/http_stub.c $(filter-out %/main.o,$(CLI_OBJ)) $(CORELIB) $(FLAGS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -Itests/fuzz $(call pc_cflags,$(CLI_PKGS)) $(CFLAGS) $(LDFLAGS) -o $@ \
	    $(filter-out %/http_stub.c,$(filter %.c,$^)) $(call fuzz_extra,$*,.,c,$(filter-out %/main.o,$(CLI_OBJ))) \
	    $(CORELIB) $(call pc_libs,$(CLI_LINK_PKGS)) $(CLI_LINK_EXTRA) -lm

fuzz:
	@PKG_CONFIG='$(PKG_CONFIG)' CC='$(CC)' PYTHON='$(PYTHON)' scripts/deps.sh fuzz
	@$(SUBMAKE) $(FUZZ_BIN)
	@start=$$(date +%s); $(SUBMAKE) $(FUZZ_TARGETS:%=fuzz-run-%) && \
	    echo "fuzz: $(words $(FUZZ_TARGETS)) targets, $(FUZZ_SECONDS) s each, no crash ($$(($$(date +%s) - start)) s)"

fuzz-run-%: $(BUILD)/fuzz/fuzz_%
	@mkdir -p $(BUILD)/fuzz/corpus/$* $(BUILD)/fuzz/crashes/$*
	@echo "== fuzz $* ($(FUZZ_SECONDS) s, log in $(BUILD)/fuzz/$*.log)"
	@if $< -max_total_time=$(FUZZ_SECONDS) -timeout=10 -print_final_stats=1 \
	        -artifact_prefix=$(BUILD)/fuzz/crashes/$*/ $(BUILD)/fuzz/corpus/$* tests/fuzz/corpus/$* \
	        > $(BUILD)/fuzz/$*.log 2>&1; then \
	    awk '$$3 == "cov:" {c=$$4; f=$$6; k=$$8} /average_exec_per_sec/{e=$$2} /number_of_executed_units/{n=$$2} \
	        END {printf "fuzz %s: %s runs, %s exec/s, cov %s, ft %s, corpus %s\n", "$*", n, e, c, f, k}' $(BUILD)/fuzz/$*.log; \
	else \
	    tail -n 60 $(BUILD)/fuzz/$*.log; \
	    echo "fuzz $*: FAILED; the input is in $(BUILD)/fuzz/crashes/$*/ (replay: $< FILE)"; exit 1; \
	fi

install: all
	install -d '$(DESTDIR)$(BINDIR)' '$(DESTDIR)$(MANDIR)/man1' \
	    '$(DESTDIR)$(BASHCOMPDIR)' '$(DESTDIR)$(ZSHCOMPDIR)' '$(DESTDIR)$(FISHCOMPDIR)'
	install -m 0755 $(CARHELP) '$(DESTDIR)$(BINDIR)/carhelp'
	install -m 0755 $(SERVER) '$(DESTDIR)$(BINDIR)/carhelp-server'
	install -m 0644 man/carhelp.1 man/carhelp-server.1 '$(DESTDIR)$(MANDIR)/man1/'
	install -m 0644 completions/carhelp.bash '$(DESTDIR)$(BASHCOMPDIR)/carhelp'
	install -m 0644 completions/_carhelp '$(DESTDIR)$(ZSHCOMPDIR)/_carhelp'
	install -m 0644 completions/carhelp.fish '$(DESTDIR)$(FISHCOMPDIR)/carhelp.fish'
	for l in $(PO_LANGS); do \
	    install -d "$(DESTDIR)$(LOCALEDIR)/$$l/LC_MESSAGES" && \
	    install -m 0644 $(BUILD)/locale/$$l/LC_MESSAGES/carhelp.mo "$(DESTDIR)$(LOCALEDIR)/$$l/LC_MESSAGES/carhelp.mo" || exit 1; \
	done

uninstall:
	rm -f '$(DESTDIR)$(BINDIR)/carhelp' '$(DESTDIR)$(BINDIR)/carhelp-server' \
	    '$(DESTDIR)$(MANDIR)/man1/carhelp.1' '$(DESTDIR)$(MANDIR)/man1/carhelp-server.1' \
	    '$(DESTDIR)$(BASHCOMPDIR)/carhelp' '$(DESTDIR)$(ZSHCOMPDIR)/_carhelp' \
	    '$(DESTDIR)$(FISHCOMPDIR)/carhelp.fish' \
	    $(foreach l,$(PO_LANGS),'$(DESTDIR)$(LOCALEDIR)/$(l)/LC_MESSAGES/carhelp.mo')

# `make print-VAR` shows a variable as make sees it (tests compare BUILD_FLAGS with the stamp).
print-%:
	@printf '%s\n' '$(subst ','\'',$($*))'

clean:
	rm -rf $(BUILD) build-san

-include $(CORE_OBJ:.o=.d) $(CLI_OBJ:.o=.d) $(SERVER_OBJ:.o=.d) $(UNIT_BIN:=.d)
-include $(wildcard $(FUZZ_OBJ)/cli/*.d $(FUZZ_OBJ)/cli/core/*.d $(FUZZ_OBJ)/tests/fuzz/*.d)
