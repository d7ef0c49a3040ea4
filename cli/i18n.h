/* Message catalogues (gettext). `_()` marks and translates a message; `N_()` only marks one
 * (static tables translated where they are printed). Catalogues live in LOCALEDIR; when the
 * locale or the catalogue is missing, gettext returns the English text unchanged. */
#ifndef CARHELP_I18N_H
#define CARHELP_I18N_H
#include <libintl.h>
#include <locale.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef LOCALEDIR
#define LOCALEDIR "/usr/local/share/locale"
#endif
#define CARHELP_TEXTDOMAIN "carhelp"

#define _(s) gettext(s)
#define N_(s) (s)

/* The folder holding LANG/LC_MESSAGES/carhelp.mo: $CARHELP_LOCALEDIR when set (tests, a
 * catalogue under work); else LOCALEDIR (the installed one); and when that has no catalogue
 * for this locale, `locale/` next to the executable, so an uninstalled build/carhelp (whose
 * Makefile puts the .mo files in build/locale) speaks the language too, then PREFIX/share/locale
 * for a binary installed under another PREFIX than it was built for. gettext("") returns the
 * catalogue's header when one was found and "" when not; for C/POSIX it looks nothing up. */
static inline void i18n_bind(void)
{
    const char *dir = getenv("CARHELP_LOCALEDIR");
    if (dir && *dir) {
        bindtextdomain(CARHELP_TEXTDOMAIN, dir);
        return;
    }
    bindtextdomain(CARHELP_TEXTDOMAIN, LOCALEDIR);
    if (*gettext(""))
        return;
    static char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - sizeof "/share/locale");
    if (n <= 0)
        return;
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (!slash)
        return;
    strcpy(slash, "/locale");                     /* build/carhelp -> build/locale */
    bindtextdomain(CARHELP_TEXTDOMAIN, exe);
    if (*gettext(""))
        return;
    if (slash - exe >= 4 && !strncmp(slash - 4, "/bin", 4)) { /* PREFIX/bin -> PREFIX/share/locale */
        strcpy(slash - 4, "/share/locale");
        bindtextdomain(CARHELP_TEXTDOMAIN, exe);
        if (*gettext(""))
            return;
    }
    bindtextdomain(CARHELP_TEXTDOMAIN, LOCALEDIR);
}

/* setlocale + textdomain. A locale the system does not have (zh_CN.UTF-8 not generated) must
 * not break anything: we keep UTF-8 character handling (C.UTF-8) and English messages. */
static inline void i18n_init(void)
{
    if (!setlocale(LC_ALL, ""))
        setlocale(LC_CTYPE, "C.UTF-8");
    textdomain(CARHELP_TEXTDOMAIN);
    bind_textdomain_codeset(CARHELP_TEXTDOMAIN, "UTF-8");
    i18n_bind();
}

#endif
