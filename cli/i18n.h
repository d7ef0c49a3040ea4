/* Message catalogues (gettext). `_()` marks and translates a message; `N_()` only marks one
 * (static tables translated where they are printed). Catalogues live in LOCALEDIR; when the
 * locale or the catalogue is missing, gettext returns the English text unchanged. */
#ifndef CARHELP_I18N_H
#define CARHELP_I18N_H
#include <libintl.h>
#include <locale.h>

#ifndef LOCALEDIR
#define LOCALEDIR "/usr/local/share/locale"
#endif
#define CARHELP_TEXTDOMAIN "carhelp"

#define _(s) gettext(s)
#define N_(s) (s)

/* setlocale + textdomain. A locale the system does not have (zh_CN.UTF-8 not generated) must
 * not break anything: we keep UTF-8 character handling (C.UTF-8) and English messages. */
static inline void i18n_init(void)
{
    if (!setlocale(LC_ALL, ""))
        setlocale(LC_CTYPE, "C.UTF-8");
    bindtextdomain(CARHELP_TEXTDOMAIN, LOCALEDIR);
    bind_textdomain_codeset(CARHELP_TEXTDOMAIN, "UTF-8");
    textdomain(CARHELP_TEXTDOMAIN);
}

#endif
