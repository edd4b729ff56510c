/*
 * The pure side of the Apertium provider: reading the list of installed
 * modes, mapping them to Parley's languages and locales (with a pivot when
 * no direct mode exists), and converting segments to and from Apertium's
 * stream format with protected spans. No I/O here; see apertium.c.
 */
#include "translate_internal.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- languages */

/* Apertium names languages by ISO 639-3 in newer pairs (eng-spa) and by
 * 639-1 in older ones (es-pt); Parley speaks 639-1 where one exists. */
static const char *const iso3[][2] = {
    {"afr", "af"}, {"arg", "an"}, {"ara", "ar"}, {"ast", "ast"}, {"bel", "be"},
    {"bre", "br"}, {"bul", "bg"}, {"cat", "ca"}, {"ces", "cs"}, {"cym", "cy"},
    {"dan", "da"}, {"deu", "de"}, {"ell", "el"}, {"eng", "en"}, {"epo", "eo"},
    {"est", "et"}, {"eus", "eu"}, {"fin", "fi"}, {"fra", "fr"}, {"gle", "ga"},
    {"glg", "gl"}, {"hbs", "sh"}, {"heb", "he"}, {"hin", "hi"}, {"hrv", "hr"},
    {"hun", "hu"}, {"ind", "id"}, {"isl", "is"}, {"ita", "it"}, {"jpn", "ja"},
    {"kaz", "kk"}, {"kor", "ko"}, {"lat", "la"}, {"lit", "lt"}, {"lav", "lv"},
    {"mkd", "mk"}, {"mlt", "mt"}, {"msa", "ms"}, {"nld", "nl"}, {"nno", "nn"},
    {"nob", "nb"}, {"nor", "no"}, {"oci", "oc"}, {"pol", "pl"}, {"por", "pt"},
    {"ron", "ro"}, {"rus", "ru"}, {"slk", "sk"}, {"slv", "sl"}, {"spa", "es"},
    {"sqi", "sq"}, {"srd", "sc"}, {"srp", "sr"}, {"swe", "sv"}, {"tat", "tt"},
    {"tur", "tr"}, {"ukr", "uk"}, {"urd", "ur"}, {"zlm", "ms"}, {"zho", "zh"},
};

const char *pl__ap_lang(const char *code, char buf[4])
{
    size_t n = code ? strcspn(code, "-_") : 0;
    char low[4];

    if (n < 2 || n > 3)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        if (!isalpha((unsigned char)code[i]))
            return NULL;
        low[i] = (char)tolower((unsigned char)code[i]);
    }
    low[n] = '\0';
    if (n == 3)
        for (size_t i = 0; i < sizeof(iso3) / sizeof(iso3[0]); i++)
            if (strcmp(iso3[i][0], low) == 0) {
                snprintf(buf, 4, "%s", iso3[i][1]);
                return buf;
            }
    memcpy(buf, low, n + 1);
    return buf;
}

/* ---- modes */

static int parse_mode(const char *name, size_t len, pl__ap_mode *m)
{
    const char *dash = memchr(name, '-', len);
    char part[32], lang[4];
    size_t a, b;

    if (len == 0 || len >= sizeof(m->name) || dash == NULL)
        return -1;
    a = (size_t)(dash - name);
    b = len - a - 1;
    if (memchr(dash + 1, '-', b) != NULL || a >= sizeof(part) || b >= sizeof(part))
        return -1; /* domain variants (eco-es-fr) and debug modes */
    memset(m, 0, sizeof(*m));
    memcpy(m->name, name, len);
    memcpy(part, name, a);
    part[a] = '\0';
    if (strchr(part, '_') != NULL || pl__ap_lang(part, lang) == NULL)
        return -1;
    memcpy(m->src, lang, sizeof(lang));
    memcpy(part, dash + 1, b);
    part[b] = '\0';
    if (pl__ap_lang(part, lang) == NULL)
        return -1;
    memcpy(m->tgt, lang, sizeof(lang));
    if (strchr(part, '_') != NULL) {
        const char *v = strchr(part, '_') + 1;
        if (*v == '\0' || strlen(v) >= sizeof(m->variant))
            return -1;
        snprintf(m->variant, sizeof(m->variant), "%s", v);
    }
    return 0;
}

size_t pl__ap_parse_modes(const char *listing, pl__ap_mode *out, size_t max)
{
    size_t n = 0;
    const char *p = listing;

    while (p != NULL && *p != '\0' && n < max) {
        size_t len;
        while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
            p++;
        len = strcspn(p, " \t\r\n");
        if (len == 0)
            break;
        if (parse_mode(p, len, &out[n]) == 0) {
            /* The same pair under two names (en-es, eng-spa): keep the first. */
            size_t k;
            for (k = 0; k < n; k++)
                if (strcmp(out[k].src, out[n].src) == 0 &&
                    strcmp(out[k].tgt, out[n].tgt) == 0 &&
                    strcasecmp(out[k].variant, out[n].variant) == 0)
                    break;
            if (k == n)
                n++;
        }
        p += len;
    }
    return n;
}

/* The region subtag of a BCP 47 tag ("pt-BR" -> "BR", "es-419" -> "419"). */
static void region_of(const char *locale, char *buf, size_t size)
{
    const char *p = locale;

    buf[0] = '\0';
    while ((p = strpbrk(p, "-_")) != NULL) {
        size_t len;
        p++;
        len = strcspn(p, "-_");
        if ((len == 2 && isalpha((unsigned char)p[0])) ||
            (len == 3 && isdigit((unsigned char)p[0]))) {
            if (len < size) {
                memcpy(buf, p, len);
                buf[len] = '\0';
            }
            return;
        }
    }
}

/* The best mode from src to tgt: matching variant, else none, else any. */
static const pl__ap_mode *find_mode(const pl__ap_mode *modes, size_t n,
                                    const char *src, const char *tgt,
                                    const char *region)
{
    const pl__ap_mode *plain = NULL, *any = NULL;

    for (size_t i = 0; i < n; i++) {
        const pl__ap_mode *m = &modes[i];
        if (strcmp(m->src, src) != 0 || strcmp(m->tgt, tgt) != 0)
            continue;
        if (m->variant[0] != '\0' && region[0] != '\0' &&
            strcasecmp(m->variant, region) == 0)
            return m;
        if (m->variant[0] == '\0' && plain == NULL)
            plain = m;
        if (any == NULL)
            any = m;
    }
    return plain != NULL ? plain : any;
}

int pl__ap_plan_pair(const pl__ap_mode *modes, size_t n, const char *src,
                     const char *target, const char *pivot, pl__ap_plan *out)
{
    char s[4], t[4], pv[4], region[8];
    const pl__ap_mode *a, *b;

    memset(out, 0, sizeof(*out));
    if (pl__ap_lang(src, s) == NULL || pl__ap_lang(target, t) == NULL)
        return PL_ENOENT;
    region_of(target, region, sizeof(region));
    if ((a = find_mode(modes, n, s, t, region)) != NULL) {
        out->legs[0] = a;
        out->nlegs = 1;
        return 0;
    }
    if (pivot == NULL || pivot[0] == '\0' || pl__ap_lang(pivot, pv) == NULL ||
        strcmp(pv, s) == 0 || strcmp(pv, t) == 0)
        return PL_ENOENT;
    a = find_mode(modes, n, s, pv, "");
    b = find_mode(modes, n, pv, t, region);
    if (a == NULL || b == NULL)
        return PL_ENOENT;
    out->legs[0] = a;
    out->legs[1] = b;
    out->nlegs = 2;
    memcpy(out->pivot, pv, sizeof(pv));
    return 0;
}

/* ---- the stream format */

typedef struct sbuf {
    char *data;
    size_t len, cap;
    int failed;
} sbuf;

static void put(sbuf *b, const char *s, size_t n)
{
    if (b->failed)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 256;
        char *g;
        while (cap < b->len + n + 1)
            cap *= 2;
        if (cap > 4 * PL_TRANSLATE_MAX_TEXT + 1024 || (g = realloc(b->data, cap)) == NULL) {
            b->failed = 1;
            return;
        }
        b->data = g;
        b->cap = cap;
    }
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

static void putc_(sbuf *b, char c) { put(b, &c, 1); }

/* Moves the buffer into the arena. */
static char *finish(pl_arena *a, sbuf *b, int *rc)
{
    char *s = NULL;

    if (b->failed) {
        *rc = PL_ELIMIT;
    } else {
        s = pl_arena_alloc(a, b->len + 1);
        if (s == NULL)
            *rc = PL_ENOMEM;
        else
            memcpy(s, b->data ? b->data : "", b->len + 1);
    }
    free(b->data);
    return s;
}

#define OPEN "\xE2\x9F\xA6"  /* ⟦ */
#define CLOSE "\xE2\x9F\xA7" /* ⟧ */

/* Length of a ⟦digits⟧ placeholder at p, or 0. */
static size_t placeholder_at(const char *p)
{
    size_t n = 3;

    if (strncmp(p, OPEN, 3) != 0 || !isdigit((unsigned char)p[3]))
        return 0;
    while (isdigit((unsigned char)p[n]))
        n++;
    return strncmp(p + n, CLOSE, 3) == 0 ? n + 3 : 0;
}

static int is_space(unsigned char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

/* Punctuation trimmed off the ends of a code-like token. */
static int lead_punct(unsigned char c) { return c != '\0' && strchr("([{\"'", c) != NULL; }
static int trail_punct(unsigned char c) { return c != '\0' && strchr(".,;:!?)]}\"'", c) != NULL; }

/* Appends text[from..to) in the stream format. */
static void emit(sbuf *b, const char *text, size_t from, size_t to)
{
    for (size_t i = from; i < to; i++) {
        unsigned char c = (unsigned char)text[i];
        if (strchr("\\[]^$/@<>{}", c) != NULL) {
            putc_(b, '\\');
            putc_(b, (char)c);
        } else if (c == '~' || c == '*' || c == '#' || (is_space(c) && c != ' ')) {
            /* Dropped (~) or taken for marks (* #) by the pipelines. */
            putc_(b, '[');
            putc_(b, (char)c);
            putc_(b, ']');
        } else {
            putc_(b, (char)c);
        }
    }
}

static int has_digit(const char *s, size_t from, size_t to)
{
    for (size_t i = from; i < to; i++)
        if (isdigit((unsigned char)s[i]))
            return 1;
    return 0;
}

typedef struct spans {
    const char **items;
    size_t count, cap;
} spans;

/* Records text[from..to) as the next protected span and emits its ⟦k⟧. */
static int protect(pl_arena *a, sbuf *b, spans *sp, const char *text, size_t from,
                   size_t to)
{
    char tag[32];
    int n;

    if (sp->count == sp->cap) {
        size_t cap = sp->cap ? sp->cap * 2 : 8;
        const char **g = pl_arena_calloc(a, cap, sizeof(char *));
        if (g == NULL)
            return PL_ENOMEM;
        if (sp->count)
            memcpy(g, sp->items, sp->count * sizeof(char *));
        sp->items = g;
        sp->cap = cap;
    }
    if ((sp->items[sp->count] = pl_arena_strndup(a, text + from, to - from)) == NULL)
        return PL_ENOMEM;
    sp->count++;
    n = snprintf(tag, sizeof(tag), OPEN "%zu" CLOSE, sp->count);
    put(b, tag, (size_t)n);
    return 0;
}

int pl__ap_deformat(pl_arena *a, const char *text, pl__ap_text *out)
{
    sbuf b = {0};
    spans sp = {0};
    size_t i = 0, len = strlen(text);
    int rc = 0;

    memset(out, 0, sizeof(*out));
    while (i < len && rc == 0) {
        size_t ph = placeholder_at(text + i), end, s, e;

        if (ph != 0) {
            rc = protect(a, &b, &sp, text, i, i + ph);
            i += ph;
            continue;
        }
        if (is_space((unsigned char)text[i])) {
            emit(&b, text, i, i + 1);
            i++;
            continue;
        }
        /* A token runs to a space or a placeholder; with a digit in it, it
         * is an order number, a time, a code: kept out of the pipeline. */
        end = i;
        while (end < len && !is_space((unsigned char)text[end]) &&
               placeholder_at(text + end) == 0)
            end++;
        s = i;
        e = end;
        while (s < e && lead_punct((unsigned char)text[s]))
            s++;
        while (e > s && trail_punct((unsigned char)text[e - 1]))
            e--;
        if (has_digit(text, s, e)) {
            emit(&b, text, i, s);
            rc = protect(a, &b, &sp, text, s, e);
            emit(&b, text, e, end);
        } else {
            emit(&b, text, i, end);
        }
        i = end;
    }
    /* A trailing superblank keeps the last punctuation (the pipelines drop
     * a final full stop that touches the NUL). */
    put(&b, "[]", 2);
    if (rc != 0) {
        free(b.data);
        return rc;
    }
    out->stream = finish(a, &b, &rc);
    out->count = sp.count;
    out->items = sp.items;
    return rc;
}

static int word_byte(unsigned char c) { return isalnum(c) || c >= 0x80; }

int pl__ap_reformat(pl_arena *a, const char *answer, size_t len,
                    const pl__ap_text *sent, char **out, pl_error *err)
{
    sbuf b = {0}, r = {0};
    size_t i = 0;
    int rc = 0;
    char *text;
    unsigned char prev = ' ';

    *out = NULL;
    while (i < len) {
        unsigned char c = (unsigned char)answer[i];
        if (c == '\\' && i + 1 < len) {
            putc_(&b, answer[i + 1]);
            prev = (unsigned char)answer[i + 1];
            i += 2;
        } else if (c == '[') {
            /* A superblank (or a word-bound blank [[...]]): its text, verbatim. */
            i++;
            while (i < len && answer[i] != ']') {
                if (answer[i] == '\\' && i + 1 < len)
                    i++;
                if (answer[i] != '[') {
                    putc_(&b, answer[i]);
                    prev = (unsigned char)answer[i];
                }
                i++;
            }
            i++;
            while (i < len && answer[i] == ']')
                i++;
        } else if ((c == '*' || c == '#' || c == '@') && i + 1 < len &&
                   word_byte((unsigned char)answer[i + 1]) &&
                   (is_space(prev) || strchr("([{\"'", prev) != NULL)) {
            i++; /* an unknown-word mark: ours travel in superblanks */
        } else if (c == ' ' && (prev == ' ' || b.len == 0)) {
            i++; /* spaces doubled (or leading) where words were dropped */
        } else {
            putc_(&b, (char)c);
            prev = c;
            i++;
        }
    }
    while (b.len > 0 && b.data[b.len - 1] == ' ')
        b.data[--b.len] = '\0';
    if (b.failed) {
        free(b.data);
        return pl_error_set(err, PL_ELIMIT, "the translation is too long");
    }
    /* Restore the protected spans; each must come back exactly once. */
    text = b.data ? b.data : "";
    for (size_t k = 0; k < sent->count; k++) {
        char tag[32];
        const char *at;
        snprintf(tag, sizeof(tag), OPEN "%zu" CLOSE, k + 1);
        at = strstr(text, tag);
        if (at == NULL || strstr(at + strlen(tag), tag) != NULL) {
            rc = pl_error_set(err, PL_ETRANSLATE,
                              "the pipeline %s the protected span '%s'",
                              at == NULL ? "lost" : "repeated", sent->items[k]);
            free(b.data);
            return rc;
        }
    }
    for (size_t p = 0; text[p] != '\0';) {
        size_t ph = placeholder_at(text + p);
        if (ph != 0) {
            size_t k = strtoul(text + p + 3, NULL, 10);
            if (k >= 1 && k <= sent->count) {
                put(&r, sent->items[k - 1], strlen(sent->items[k - 1]));
                p += ph;
                continue;
            }
        }
        putc_(&r, text[p]);
        p++;
    }
    if (r.data == NULL && !r.failed)
        put(&r, "", 0);
    free(b.data);
    *out = finish(a, &r, &rc);
    if (rc != 0)
        return pl_error_set(err, rc, "%s", pl_strerror(rc));
    return 0;
}
