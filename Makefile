# carhelp: GNU make + pkg-config. `make demo` and `make check` are the two commands a
# newcomer needs; both run the dependency step first.
PREFIX      ?= /usr/local
DESTDIR     ?=
BINDIR      ?= $(PREFIX)/bin
MANDIR      ?= $(PREFIX)/share/man
DATADIR     ?= $(PREFIX)/share
PKG_CONFIG  ?= pkg-config
CC          ?= cc
PYTHON      ?= /usr/bin/python3
BUILD       ?= build
SANITIZE    ?=
WERROR      ?=
VERSION     := 0.1.0
DEFAULT_API_URL ?= http://127.0.0.1:8765

CLI_PKGS    := libcurl libcjson readline libqrencode libpng inih
SERVER_PKGS := libmicrohttpd sqlite3 libcjson
TEST_PKGS   := cmocka

CFLAGS   ?= -O2 -g
CFLAGS   += -std=c11 -Wall -Wextra -Wshadow -Wstrict-prototypes -Wformat=2 -fno-common
CPPFLAGS += -D_GNU_SOURCE -MMD -MP -Icli -Icli/core
CPPFLAGS += -DCARHELP_VERSION='"$(VERSION)"' -DDEFAULT_API_URL='"$(DEFAULT_API_URL)"'
ifneq ($(WERROR),)
CFLAGS   += -Werror
endif
ifneq ($(SANITIZE),)
CFLAGS   += -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
LDFLAGS  += -fsanitize=$(SANITIZE)
endif

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

CARHELP := $(BUILD)/carhelp
SERVER  := $(BUILD)/carhelp-server
CORELIB := $(BUILD)/libcarhelpcore.a

.PHONY: all deps tools check unit e2e contract lint lint-api lint-man demo install uninstall clean bench fuzz soak
all: $(CARHELP) $(SERVER)

$(BUILD)/cli/%.o: cli/%.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(call pc_cflags,$(CLI_PKGS)) $(CFLAGS) -c -o $@ $<

$(BUILD)/server/%.o: server/%.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -Iserver $(call pc_cflags,$(SERVER_PKGS)) $(CFLAGS) -c -o $@ $<

$(BUILD)/gen/completion_scripts.c: $(COMPLETIONS) scripts/embed.sh
	@mkdir -p $(@D)
	scripts/embed.sh $@ completion_bash completions/carhelp.bash \
	    completion_zsh completions/_carhelp completion_fish completions/carhelp.fish

$(BUILD)/gen/%.o: $(BUILD)/gen/%.c
	$(CC) $(CFLAGS) -c -o $@ $<

$(CORELIB): $(CORE_OBJ)
	@mkdir -p $(@D)
	rm -f $@ && $(AR) rcs $@ $^

$(CARHELP): $(CLI_OBJ) $(CORELIB)
	$(CC) $(LDFLAGS) -o $@ $(CLI_OBJ) $(CORELIB) $(call pc_libs,$(CLI_PKGS)) -lm

$(SERVER): $(SERVER_OBJ)
	$(CC) $(LDFLAGS) -o $@ $^ $(call pc_libs,$(SERVER_PKGS)) -lcrypt -lpthread -lm

$(BUILD)/tests/%: tests/unit/%.c $(CORELIB)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(call pc_cflags,$(CLI_PKGS) $(TEST_PKGS)) $(CFLAGS) -o $@ $< $(CORELIB) \
	    $(call pc_libs,$(CLI_PKGS) $(TEST_PKGS)) -lm

deps:
	@scripts/deps.sh

tools:
	@scripts/tools.sh

# Everything a change must pass. Warnings are errors here.
check: deps
	@$(MAKE) --no-print-directory WERROR=1 all $(UNIT_BIN)
	@$(MAKE) --no-print-directory tools
	@$(MAKE) --no-print-directory unit lint e2e contract

unit: $(UNIT_BIN)
	@set -e; for t in $(UNIT_BIN); do echo "== $$t"; $$t; done

lint: lint-api lint-man

lint-api:
	@scripts/lint-api.sh

lint-man:
	@scripts/lint-man.sh

e2e: all
	CARHELP_BIN=$(abspath $(CARHELP)) CARHELP_SERVER_BIN=$(abspath $(SERVER)) \
	    $(PYTHON) -m pytest -q -p no:cacheprovider tests/e2e

contract: all
	CARHELP_BIN=$(abspath $(CARHELP)) CARHELP_SERVER_BIN=$(abspath $(SERVER)) \
	    $(PYTHON) -m pytest -q -p no:cacheprovider tests/contract

demo: deps
	@$(MAKE) --no-print-directory all
	@CARHELP_BIN=$(abspath $(CARHELP)) CARHELP_SERVER_BIN=$(abspath $(SERVER)) scripts/demo.sh

bench: all
	@CARHELP_BIN=$(abspath $(CARHELP)) CARHELP_SERVER_BIN=$(abspath $(SERVER)) bench/run.sh

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1
	install -m 0755 $(CARHELP) $(DESTDIR)$(BINDIR)/carhelp
	install -m 0755 $(SERVER) $(DESTDIR)$(BINDIR)/carhelp-server
	install -m 0644 man/carhelp.1 man/carhelp-server.1 $(DESTDIR)$(MANDIR)/man1/
	install -d $(DESTDIR)$(DATADIR)/bash-completion/completions \
	    $(DESTDIR)$(DATADIR)/zsh/site-functions $(DESTDIR)$(DATADIR)/fish/vendor_completions.d
	install -m 0644 completions/carhelp.bash $(DESTDIR)$(DATADIR)/bash-completion/completions/carhelp
	install -m 0644 completions/_carhelp $(DESTDIR)$(DATADIR)/zsh/site-functions/_carhelp
	install -m 0644 completions/carhelp.fish $(DESTDIR)$(DATADIR)/fish/vendor_completions.d/carhelp.fish

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/carhelp $(DESTDIR)$(BINDIR)/carhelp-server \
	    $(DESTDIR)$(MANDIR)/man1/carhelp.1 $(DESTDIR)$(MANDIR)/man1/carhelp-server.1 \
	    $(DESTDIR)$(DATADIR)/bash-completion/completions/carhelp \
	    $(DESTDIR)$(DATADIR)/zsh/site-functions/_carhelp \
	    $(DESTDIR)$(DATADIR)/fish/vendor_completions.d/carhelp.fish

clean:
	rm -rf $(BUILD) build-san

-include $(CORE_OBJ:.o=.d) $(CLI_OBJ:.o=.d) $(SERVER_OBJ:.o=.d)
