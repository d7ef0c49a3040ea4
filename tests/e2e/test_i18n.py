"""Chinese (gettext): LANG=zh_CN.UTF-8 gives Chinese help and command output, C gives English;
--json documents and exit codes do not change with the language; tables stay aligned with
mixed-width text; a locale the system lacks falls back to English without a crash.

Chinese output needs the zh_CN.UTF-8 locale (these machines have only C, C.UTF-8, POSIX): the
session generates it with localedef when we are root, else the tests that need it skip."""
import json
import os
import re
import subprocess
import unicodedata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def have_locale(name="zh_CN.utf8"):
    r = subprocess.run(["locale", "-a"], capture_output=True, text=True)
    return name.lower() in {l.strip().lower().replace("utf-8", "utf8") for l in r.stdout.split()}


@pytest.fixture(scope="session")
def zh_locale():
    if not have_locale():
        if os.geteuid() != 0:
            pytest.skip("zh_CN.UTF-8 is not generated and we are not root to run localedef")
        r = subprocess.run(["localedef", "-i", "zh_CN", "-f", "UTF-8", "zh_CN.UTF-8"],
                           capture_output=True, text=True)
        if r.returncode != 0 or not have_locale():
            pytest.skip(f"localedef -i zh_CN -f UTF-8 zh_CN.UTF-8 failed: {r.stderr.strip()}")
    return "zh_CN.UTF-8"


def lang_env(env, lang):
    """env with LANG=lang and no LC_ALL/LC_MESSAGES/LANGUAGE (isolated_env sets LC_ALL=C.UTF-8)."""
    e = {k: v for k, v in env.items() if k not in ("LC_ALL", "LC_MESSAGES", "LANGUAGE")}
    e["LANG"] = lang
    return e


def width(s):
    """Terminal columns of s: East Asian wide and fullwidth characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in s)


def test_help_is_chinese_under_zh_cn_and_english_under_c(carhelp, zh_locale):
    zh = carhelp("--help", env=lang_env(carhelp.env, zh_locale))
    en = carhelp("--help", env=lang_env(carhelp.env, "C"))
    assert zh.returncode == en.returncode == 0, (zh.stderr, en.stderr)
    assert "用法" in zh.stdout and "命令" in zh.stdout and "全局选项" in zh.stdout, zh.stdout
    assert "Usage" in en.stdout and "Commands" in en.stdout, en.stdout
    assert not re.search(r"[\u4e00-\u9fff]{2}", en.stdout.replace("王小明", "")), en.stdout
    # Command and option names stay untranslated.
    for word in ("login", "order list", "--json", "--api-url"):
        assert word in zh.stdout, word
    # A command's help: the summary translated, the subcommand names not.
    r = carhelp("help", "order", env=lang_env(carhelp.env, zh_locale))
    assert r.returncode == 0 and "子命令" in r.stdout and "order audit" in r.stdout, r.stdout
    # Descriptions wrap between Chinese characters (no spaces there) at 78 columns; only a line
    # holding one unbreakable long token (a JSON shape) may be longer.
    for cmd in (["order", "audit"], ["account", "verify"], ["contact"], ["shell"]):
        r = carhelp("help", *cmd, env=lang_env(carhelp.env, zh_locale))
        assert r.returncode == 0, r.stderr
        desc = [l for l in r.stdout.splitlines() if l[:1].strip() and not l.startswith("用法")]
        for line in desc:
            assert width(line) <= 78 or any(len(re.sub(r"[^\x00-\x7f]", "", t)) > 40
                                            for t in line.split()), \
                f"{cmd}: {width(line)} columns:\n{line}"
        assert not any(l.lstrip().startswith(("，", "。", "、", "）")) for l in r.stdout.splitlines())


def test_every_paragraph_of_a_command_help_is_translated(carhelp, zh_locale):
    # Vehicle commands share a second paragraph (`details`); outbox's help once bypassed N_().
    for cmd in (["unlock"], ["vehicle", "honk"], ["outbox", "flush"], ["outbox"]):
        r = carhelp("help", *cmd, env=lang_env(carhelp.env, zh_locale))
        assert r.returncode == 0, r.stderr
        prose = r.stdout.split("\n\n")[1:4]   # summary, description, details
        for para in prose:
            assert not re.search(r"\b(the|and|with|when)\b", para), f"{cmd}: {para}"


def test_usage_errors_are_translated_with_the_same_exit_code(carhelp, zh_locale):
    zh = carhelp("order", "list", "--no-such-option", env=lang_env(carhelp.env, zh_locale))
    en = carhelp("order", "list", "--no-such-option", env=lang_env(carhelp.env, "C"))
    assert zh.returncode == en.returncode == 2
    assert "未知选项 '--no-such-option'" in zh.stderr, zh.stderr
    assert "unknown option '--no-such-option'" in en.stderr, en.stderr


def test_contact_against_the_service_in_both_languages(carhelp, zh_locale):
    zh = carhelp("contact", env=lang_env(carhelp.env, zh_locale))
    en = carhelp("contact", env=lang_env(carhelp.env, "C"))
    assert zh.returncode == en.returncode == 0, (zh.stderr, en.stderr)
    assert "客服电话" in zh.stdout and "服务时间" in zh.stdout, zh.stdout
    assert "Customer service" in en.stdout and "客服电话" not in en.stdout, en.stdout
    # The phone numbers themselves are the same.
    nums = lambda s: sorted(re.findall(r"\d{3}-\d{3}-\d{4}", s))  # noqa: E731
    assert nums(zh.stdout) == nums(en.stdout) and nums(zh.stdout)
    # Labels are padded by display width: the values start in one column.
    starts = {width(line[:m.end()]) for line in zh.stdout.splitlines() if line[:1].strip()
              for m in [re.search(r"\s{2,}(?=\S)", line)] if m}
    assert len(starts) == 1, zh.stdout


def test_order_list_table_stays_aligned_with_chinese_headers(logged_in, zh_locale):
    carhelp = logged_in
    zh = carhelp("order", "list", env=lang_env(carhelp.env, zh_locale))
    assert zh.returncode == 0, zh.stderr
    lines = [l for l in zh.stdout.splitlines() if l.strip()]
    assert lines[0].split()[:2] == ["订单", "开始时间"], lines[0]
    assert any("分钟" in l for l in lines[1:]), zh.stdout  # a completed order's duration

    def cells(line):
        """(display column, text) of each cell; cells are separated by two or more spaces."""
        return [(width(line[:m.start()]), m.group()) for m in re.finditer(r"\S+(?: \S+)*", line)]

    head = [c for c, _ in cells(lines[0])]
    assert len(head) == 6, lines[0]
    for row in lines[1:]:
        assert [c for c, _ in cells(row)] == head, f"misaligned:\n{lines[0]}\n{row}"


def test_json_and_exit_codes_do_not_change_with_the_language(logged_in, zh_locale):
    carhelp = logged_in
    zh_env, en_env = lang_env(carhelp.env, zh_locale), lang_env(carhelp.env, "C")
    listed = carhelp("--json", "order", "list", env=en_env)
    assert listed.returncode == 0, listed.stderr
    order = json.loads(listed.stdout)["items"][0]["id"]
    for args in (["order", "list"], ["order", "show", order], ["account", "show"],
                 ["auth", "status"], ["contact", "--at", "08:15"], ["checklist", "billing"],
                 ["order", "show", "ord_nope_0000"], ["order", "list", "--limit", "0"]):
        zh = carhelp("--json", *args, env=zh_env)
        en = carhelp("--json", *args, env=en_env)
        assert zh.returncode == en.returncode, (args, zh.returncode, en.returncode, zh.stderr)
        if zh.stdout.strip() or en.stdout.strip():
            a, b = json.loads(zh.stdout), json.loads(en.stdout)
            for d in (a, b):   # the moment of the request is the only thing allowed to differ
                if isinstance(d, dict):
                    d.pop("now", None); d.pop("generated_at", None)
            assert a == b, args
        if zh.returncode:
            # An error on --json is a document too, with the same code in both languages.
            ea = json.loads(zh.stdout or zh.stderr).get("error", {})
            eb = json.loads(en.stdout or en.stderr).get("error", {})
            assert ea.get("code") == eb.get("code") and ea.get("code"), (args, zh.stderr)


def test_a_locale_that_is_not_installed_gives_english(carhelp):
    for lang in ("xx_YY.UTF-8", "zh_TW.BIG5", "de_DE"):
        r = carhelp("--help", env=lang_env(carhelp.env, lang))
        assert r.returncode == 0, (lang, r.stderr)
        assert "Usage" in r.stdout and "Commands" in r.stdout, r.stdout
        r = carhelp("contact", env=lang_env(carhelp.env, lang))
        assert r.returncode == 0 and "Customer service" in r.stdout, (lang, r.stdout, r.stderr)
        # UTF-8 text keeps its display widths even in a locale setlocale refuses.
        r = carhelp("nosuchcommand", env=lang_env(carhelp.env, lang))
        assert r.returncode == 2 and "unknown command" in r.stderr, r.stderr


def test_lc_messages_and_language_select_the_catalogue(carhelp, zh_locale):
    e = lang_env(carhelp.env, "C.UTF-8")
    e["LC_ALL"] = zh_locale
    assert "用法" in carhelp("--help", env=e).stdout
    e = lang_env(carhelp.env, "C.UTF-8")
    e["LC_MESSAGES"] = zh_locale
    assert "用法" in carhelp("--help", env=e).stdout
    e = lang_env(carhelp.env, zh_locale)
    e["LC_ALL"] = "C"
    assert "Usage" in carhelp("--help", env=e).stdout


def test_carhelp_localedir_overrides_where_catalogues_are_read(carhelp, zh_locale, tmp_path):
    e = lang_env(carhelp.env, zh_locale)
    e["CARHELP_LOCALEDIR"] = str(tmp_path / "empty")   # no catalogue there: English
    assert "Usage" in carhelp("--help", env=e).stdout
    mo = tmp_path / "loc/zh_CN/LC_MESSAGES"
    mo.mkdir(parents=True)
    subprocess.run(["msgfmt", "-o", str(mo / "carhelp.mo"), str(ROOT / "po/zh_CN.po")], check=True)
    e["CARHELP_LOCALEDIR"] = str(tmp_path / "loc")
    assert "用法" in carhelp("--help", env=e).stdout


def test_version_is_the_same_in_every_language(carhelp, zh_locale):
    zh = carhelp("--version", env=lang_env(carhelp.env, zh_locale))
    en = carhelp("--version", env=lang_env(carhelp.env, "C"))
    assert zh.returncode == en.returncode == 0 and zh.stdout == en.stdout


def po_entries(path):
    """(msgid, msgstr, fuzzy) of each entry of a PO file, header and obsolete entries left out
    (msgattrib normalises the file; msgids are unique in a valid catalogue)."""
    text = subprocess.run(["msgattrib", "--no-obsolete", "--no-wrap", str(path)], check=True,
                          capture_output=True, text=True).stdout
    out = []
    for block in text.split("\n\n"):
        fuzzy = any(l.startswith("#,") and "fuzzy" in l for l in block.splitlines())
        fields, key = {}, None
        for line in block.splitlines():
            m = re.match(r'(msgid|msgid_plural|msgstr(?:\[\d+\])?) (".*")$', line)
            if m:
                key = m.group(1)
                fields[key] = json.loads(m.group(2))
            elif line.startswith('"') and key:
                fields[key] += json.loads(line)
        if fields.get("msgid"):
            strs = [v for k, v in fields.items() if k.startswith("msgstr")]
            out.append((fields["msgid"], strs, fuzzy))
    return out


def test_every_message_of_the_sources_is_translated(tmp_path):
    """A fresh template from the sources (`make pot`): every message has a Chinese translation
    in po/zh_CN.po, none fuzzy, and msgfmt's format checks pass. A new _() string without a
    translation fails here."""
    pot = tmp_path / "carhelp.pot"
    r = subprocess.run(["make", "--no-print-directory", "-s", "-C", str(ROOT), "pot", f"POT={pot}"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    wanted = {msgid for msgid, _, _ in po_entries(pot)}
    assert len(wanted) > 500, "make pot found too few messages"
    have = {msgid: (strs, fuzzy) for msgid, strs, fuzzy in po_entries(ROOT / "po/zh_CN.po")}
    missing = sorted(m for m in wanted if m not in have or not all(have[m][0]))
    fuzzy = sorted(m for m in wanted if m in have and have[m][1])
    assert not missing, f"{len(missing)} untranslated (run make pot, msgmerge):\n" + \
        "\n".join(missing[:20])
    assert not fuzzy, f"{len(fuzzy)} fuzzy:\n" + "\n".join(fuzzy[:20])
    r = subprocess.run(["msgfmt", "-c", "--check-format", "-o", os.devnull,
                        str(ROOT / "po/zh_CN.po")], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


def test_translations_keep_command_names_and_formats(tmp_path):
    """Spot checks a format check cannot see: command and option names, exit codes and
    placeholders such as ACCOUNT stay as they are in the English text."""
    entries = {m: s[0] for m, s, _ in po_entries(ROOT / "po/zh_CN.po")}
    for msgid, msgstr in entries.items():
        for token in re.findall(r"`carhelp [^`]+`|--[a-z][a-z0-9-]+", msgid):
            assert token in msgstr, f"{token!r} lost in the translation of {msgid!r}: {msgstr!r}"
